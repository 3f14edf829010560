import { csvRow, escapeFormula, exportColumns } from './export-format';

describe('export cells (SPEC §12)', () => {
  it('a text cell a spreadsheet would run is escaped; others are not', () => {
    for (const text of ['=1+1', '+82', '-5', '@SUM(A1)', '\tx', '\rx']) expect(escapeFormula(text)).toBe(`'${text}`);
    for (const text of ['홍길동', 'a=b', '', ' =x']) expect(escapeFormula(text)).toBe(text);
  });

  it('numbers and booleans stay as they are, empty cells are empty, several values are joined with ;', () => {
    const columns = exportColumns([
      { propertyId: 'n', name: 'score', fieldType: 'NUMBER' },
      { propertyId: 'm', name: 'interests', fieldType: 'MULTI_CHECKBOX' },
      { propertyId: 'c', name: 'active', fieldType: 'CHECKBOX' },
      { propertyId: 't', name: 'memo', fieldType: 'TEXT' },
    ]);
    const record = {
      accountId: 'a', recordId: 'r', entityId: 'e', name: '-dash', tags: ['vip', 'seoul'], isDeleted: false, deletedAt: null,
      data: { n: -3.5, m: ['golf', 'ski'], c: false },
      dateCreated: new Date('2026-12-01T00:00:00Z'), dateUpdated: new Date('2026-12-02T00:00:00Z'),
    };
    expect(columns.map((c) => c.header)).toEqual(['recordId', 'name', 'tags', 'dateCreated', 'dateUpdated', 'score', 'interests', 'active', 'memo']);
    expect(csvRow(columns.map((c) => c.value(record)))).toEqual(['r', "'-dash", 'vip;seoul', '2026-12-01T00:00:00.000Z', '2026-12-02T00:00:00.000Z', -3.5, 'golf;ski', false, '']);
  });
});
