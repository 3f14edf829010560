import type { FieldType } from '../properties/field-types';
import { findDataProblem, mergeData } from './record-data';

const options = [
  { label: 'Red', value: 'red', priority: 1 },
  { label: 'Blue', value: 'blue', priority: 2 },
];
const property = (fieldType: FieldType, required = false) => ({ propertyId: 'P', name: 'field', fieldType, required, options });

describe('record data against field types', () => {
  const cases: [FieldType, unknown, unknown][] = [
    ['TEXT', 'hello', 42],
    ['TEXTAREA', 'line 1\nline 2', { text: 'x' }],
    ['NUMBER', 3.25, '3.25'],
    ['PHONE', '+82 10-1234-5678', 'call me'],
    ['EMAIL', 'kim@example.com', 'kim@'],
    ['CHECKBOX', false, 'false'],
    ['MULTI_CHECKBOX', ['red', 'blue'], ['red', 'green']],
    ['DATE', '2026-02-28', '2026-02-30'],
    ['DATETIME', '2026-04-21T08:27:46+09:00', '2026-04-21 08:27'],
    ['DROPDOWN', 'red', 'green'],
    ['RADIO', 'blue', ['blue']],
    ['URL', 'https://example.com/a?b=c', 'ftp://example.com'],
  ];

  it.each(cases)('%s accepts %j and refuses %j, naming the property', (fieldType, valid, invalid) => {
    expect(findDataProblem([property(fieldType)], { P: valid })).toBeUndefined();
    expect(findDataProblem([property(fieldType)], { P: invalid })).toMatch(/^data\.P \(field\): /);
  });

  it('refuses a TEXT over 1000 characters and an infinite-looking NUMBER', () => {
    expect(findDataProblem([property('TEXT')], { P: 'x'.repeat(1001) })).toBeDefined();
    expect(findDataProblem([property('NUMBER')], { P: Number.NaN })).toBeDefined();
  });

  it('refuses a MULTI_CHECKBOX with a repeated value', () => {
    expect(findDataProblem([property('MULTI_CHECKBOX')], { P: ['red', 'red'] })).toBeDefined();
  });

  it('refuses a key that is not a property of the entity', () => {
    expect(findDataProblem([property('TEXT')], { Q: 'x' })).toMatch(/^data\.Q: /);
    expect(findDataProblem([property('TEXT')], JSON.parse('{"__proto__": "x"}'))).toMatch(/^data\.__proto__: /);
  });

  it('requires a required property, null counting as absent', () => {
    expect(findDataProblem([property('TEXT', true)], {})).toMatch(/필수/);
    expect(findDataProblem([property('TEXT', true)], { P: null })).toMatch(/필수/);
    expect(findDataProblem([property('TEXT', true)], { P: 'x' })).toBeUndefined();
  });

  it('merges a patch: given keys replace, null removes', () => {
    expect(mergeData({ A: 1, B: 2 }, { B: 3, A: null, C: 4 })).toEqual({ B: 3, C: 4 });
  });

  it('NUMBER refuses what a JSON double cannot hold as sent: infinities, NaN, integers past 2^53', () => {
    for (const value of [Infinity, -Infinity, NaN, 2 ** 53, -(2 ** 53), 1e300]) {
      expect(findDataProblem([property('NUMBER')], { P: value })).toMatch(/^data\.P \(field\): /);
    }
    for (const value of [Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 0.1, -3.5e-300]) {
      expect(findDataProblem([property('NUMBER')], { P: value })).toBeUndefined();
    }
  });
});
