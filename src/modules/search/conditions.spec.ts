import fc from 'fast-check';
import { AppException } from '../../common/errors/app.exception';
import { fieldResolver, parseConditionGroup, parseFilters, parseSortFields, type Condition, type ConditionGroup } from './conditions';

const resolve = fieldResolver([
  { propertyId: 'CRMPP1text', fieldType: 'TEXT' },
  { propertyId: 'CRMPP1num', fieldType: 'NUMBER' },
  { propertyId: 'CRMPP1date', fieldType: 'DATE' },
  { propertyId: 'CRMPP1pick', fieldType: 'DROPDOWN', options: [{ value: 'a' }, { value: 'b' }] },
  { propertyId: 'CRMPP1many', fieldType: 'MULTI_CHECKBOX', options: [{ value: 'x' }] },
]);

/** The message of the 400 a parse throws. */
function faultOf(parse: () => unknown): string {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(AppException);
    return (e as AppException).message;
  }
  throw new Error('no fault');
}

function leaves(group: ConditionGroup): Condition[] {
  return group.conditions.flatMap((c) => (c.type === 'group' ? leaves(c) : c.type === 'condition' ? [c] : []));
}

describe('the condition language (SPEC §8)', () => {
  it('parses nested groups into typed conditions', () => {
    const group = parseConditionGroup(
      { operator: 'AND', conditions: [{ field: 'data.CRMPP1num', operator: 'between', value: [1, 2] }, { operator: 'OR', conditions: [{ field: 'tags', operator: 'containsAny', value: ['v'] }] }] },
      resolve,
    );
    expect(leaves(group).map((c) => [c.field.kind, c.operator])).toEqual([['number', 'between'], ['tags', 'containsAny']]);
  });

  it('names the JSON path of each fault', () => {
    const at = (conditions: unknown[]) => () => parseConditionGroup({ operator: 'AND', conditions }, resolve);
    expect(faultOf(at([{ field: 'data.nope', operator: 'eq', value: 1 }]))).toContain('conditionGroup.conditions[0].field:');
    expect(faultOf(at([{ field: 'name', operator: 'eq', value: 'x' }, { field: 'data.CRMPP1pick', operator: 'in', value: ['a', 'c'] }]))).toContain('conditionGroup.conditions[1].value[1]:');
    expect(faultOf(at([{ field: 'data.CRMPP1date', operator: 'contains', value: 'x' }]))).toContain('conditionGroup.conditions[0].operator:');
    expect(faultOf(() => parseFilters({ 'data.CRMPP1num': { op: 'gt', value: 'x' } }, resolve))).toContain('filters.data.CRMPP1num.value:');
    expect(faultOf(() => parseSortFields(['name', '-name'], resolve))).toContain('sortFields[1]:');
  });

  it('takes a relationship condition only where a segment allows one, and never inside another', () => {
    const linked = fieldResolver([{ propertyId: 'CRMPP1city', fieldType: 'TEXT' }]);
    const relationships = (id: string) => (id === 'CRMRT1works' ? { sides: ['source' as const], otherEntityId: 'CRMET1company', resolve: linked } : undefined);
    const condition = (group?: object) => ({ operator: 'AND', conditions: [{ field: 'relationship', relationshipTypeId: 'CRMRT1works', operator: 'exists', ...(group ? { conditionGroup: group } : {}) }] });
    const parsed = parseConditionGroup(condition({ operator: 'AND', conditions: [{ field: 'data.CRMPP1city', operator: 'eq', value: 'Seoul' }] }), resolve, 'conditionGroup', relationships);
    expect(parsed.conditions[0]).toMatchObject({ type: 'relationship', sides: ['source'], otherEntityId: 'CRMET1company', group: { conditions: [{ field: { propertyId: 'CRMPP1city' } }] } });
    expect(faultOf(() => parseConditionGroup(condition(), resolve))).toContain('conditionGroup.conditions[0].field:');
    expect(faultOf(() => parseConditionGroup(condition(condition()), resolve, 'conditionGroup', relationships))).toContain('conditionGroup.conditions[0].conditionGroup.conditions[0].field:');
    expect(faultOf(() => parseConditionGroup(condition({ operator: 'AND', conditions: [{ field: 'data.CRMPP1num', operator: 'eq', value: 1 }] }), resolve, 'conditionGroup', relationships))).toContain(
      'conditionGroup.conditions[0].conditionGroup.conditions[0].field:',
    );
  });

  it('does not reach object prototypes through field names', () => {
    for (const field of ['__proto__', 'constructor', 'toString', 'data.__proto__', 'data.constructor']) {
      expect(faultOf(() => parseConditionGroup({ operator: 'AND', conditions: [{ field, operator: 'isEmpty' }] }, resolve))).toContain('.field:');
    }
  });

  it('any JSON either parses into known kinds and operators or is a 400, never another error', () => {
    const anyJson = fc.letrec((tie) => ({
      group: fc.record({ operator: fc.constantFrom('AND', 'OR', 'NOT', 1), conditions: fc.array(fc.oneof(tie('condition'), tie('group'), fc.jsonValue()), { maxLength: 3 }) }, { requiredKeys: [] }),
      condition: fc.record({
        field: fc.constantFrom('name', 'tags', 'dateCreated', 'data.CRMPP1text', 'data.CRMPP1num', 'data.CRMPP1date', 'data.CRMPP1pick', 'data.CRMPP1many', '__proto__', 7),
        operator: fc.constantFrom('eq', 'in', 'between', 'contains', 'containsAll', 'isEmpty', 'gt', 'nope'),
        value: fc.oneof(fc.jsonValue(), fc.constantFrom('2026-01-01', 'a', 'x', [1, 2], ['a'], ['x'])),
      }, { requiredKeys: ['field', 'operator'] }),
    }));
    fc.assert(
      fc.property(fc.oneof(anyJson.group, fc.jsonValue()), (raw) => {
        let group: ConditionGroup;
        try {
          group = parseConditionGroup(raw, resolve);
        } catch (e) {
          expect(e).toBeInstanceOf(AppException);
          expect((e as AppException).message).toMatch(/^요청 값이 올바르지 않습니다\. conditionGroup[.[]?/);
          return;
        }
        for (const c of leaves(group)) expect(c.field.field).toMatch(/^(name|tags|dateCreated|data\.CRMPP1\w+)$/);
      }),
      { numRuns: 2000 },
    );
  });
});
