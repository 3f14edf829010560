import { CARDINALITIES, exclusiveSides } from './cardinality';

describe('exclusiveSides (SPEC §5: the cardinality of a relationship type)', () => {
  it('names exactly the four cardinalities of the contract', () => {
    expect([...CARDINALITIES].sort()).toEqual(['MANY_TO_MANY', 'MANY_TO_ONE', 'ONE_TO_MANY', 'ONE_TO_ONE']);
  });

  it.each([
    ['ONE_TO_ONE', 'a source links one target and a target one source', { sourceExclusive: true, targetExclusive: true }],
    ['ONE_TO_MANY', 'a source links many targets, a target has one source', { sourceExclusive: false, targetExclusive: true }],
    ['MANY_TO_ONE', 'a source links one target, a target has many sources', { sourceExclusive: true, targetExclusive: false }],
    ['MANY_TO_MANY', 'neither side is limited', { sourceExclusive: false, targetExclusive: false }],
  ] as const)('%s: %s', (cardinality, _rule, sides) => {
    expect(exclusiveSides(cardinality)).toEqual(sides);
  });
});
