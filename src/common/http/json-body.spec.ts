import { findBodyProblem, MAX_ARRAY_ITEMS, MAX_BODY_DEPTH } from './json-body';

describe('findBodyProblem', () => {
  const nested = (depth: number) => JSON.parse('{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1));

  it('accepts ordinary bodies', () => {
    expect(findBodyProblem({ name: 'Kim', data: { a: [1, { b: 'c' }] }, tags: ['x'] })).toBeUndefined();
    expect(findBodyProblem(nested(MAX_BODY_DEPTH))).toBeUndefined();
  });

  it('refuses nesting deeper than the limit, even far deeper, without overflowing', () => {
    expect(findBodyProblem(nested(MAX_BODY_DEPTH + 1))).toBeDefined();
    expect(findBodyProblem(nested(50_000))).toBeDefined();
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses a %s key at any depth', (key) => {
    expect(findBodyProblem(JSON.parse(`{"${key}": {}}`))).toMatch(key);
    expect(findBodyProblem(JSON.parse(`{"data": [{"${key}": 1}]}`))).toMatch(key);
  });

  it('refuses NUL characters in values and keys', () => {
    expect(findBodyProblem({ name: 'a\u0000b' })).toBeDefined();
    expect(findBodyProblem({ ['k\u0000']: 1 })).toBeDefined();
    expect(findBodyProblem({ tags: ['x', 'a\u0000b'] })).toBeDefined();
    expect(findBodyProblem('a\u0000b')).toBeDefined();
  });

  it('walks wide bodies to their last element', () => {
    const wide = Array.from({ length: MAX_ARRAY_ITEMS - 1 }, () => 0) as unknown[];
    expect(findBodyProblem({ a: wide })).toBeUndefined();
    wide.push({ b: [{ constructor: 1 }] });
    expect(findBodyProblem({ a: wide })).toMatch('constructor');
  });

  it('refuses an array longer than any route takes, at any depth, before validation walks it', () => {
    const long = Array.from({ length: MAX_ARRAY_ITEMS + 1 }, () => 0);
    expect(findBodyProblem(long)).toMatch(String(MAX_ARRAY_ITEMS));
    expect(findBodyProblem({ tags: long })).toMatch(String(MAX_ARRAY_ITEMS));
    expect(findBodyProblem({ metadata: { deep: [long] } })).toMatch(String(MAX_ARRAY_ITEMS));
    expect(findBodyProblem({ recordIds: long.slice(1) })).toBeUndefined();
  });

  it('refuses lone surrogates in values and keys, and keeps whole pairs', () => {
    expect(findBodyProblem({ name: 'a\ud800' })).toMatch('서로게이트');
    expect(findBodyProblem({ ['\udc00']: 1 })).toMatch('서로게이트');
    expect(findBodyProblem({ tags: ['x', '\ude00a'] })).toMatch('서로게이트');
    expect(findBodyProblem('\ud83d')).toMatch('서로게이트');
    expect(findBodyProblem({ name: '\ud83d\ude00 홍길동', ['😀']: ['\ud83d\ude00'] })).toBeUndefined();
  });
});
