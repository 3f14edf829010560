import { BoundedMap } from './bounded-map';

describe('BoundedMap', () => {
  it('holds at most its size: a new key when full drops the one added first', () => {
    const kept = new BoundedMap<string, number>(2);
    kept.set('a', 1).set('b', 2).set('c', 3);
    expect([...kept.keys()]).toEqual(['b', 'c']);
  });

  it('setting a key it holds again drops nothing and keeps its place', () => {
    const kept = new BoundedMap<string, number>(2);
    kept.set('a', 1).set('b', 2).set('a', 10);
    expect([...kept.entries()]).toEqual([['a', 10], ['b', 2]]);
    kept.set('c', 3);
    expect([...kept.keys()]).toEqual(['b', 'c']);
  });
});
