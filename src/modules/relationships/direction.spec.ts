import { normalizeEnds } from './direction';

describe('normalizeEnds (SPEC §6 rule 3)', () => {
  const type = { sourceEntityId: 'CONTACT', targetEntityId: 'COMPANY' };

  it('keeps ends that follow the definition', () => {
    const ends = { sourceEntityId: 'CONTACT', sourceRecordId: 'kim', targetEntityId: 'COMPANY', targetRecordId: 'acme' };
    expect(normalizeEnds(type, ends)).toEqual(ends);
  });

  it('swaps ends given in reverse, records with their entities', () => {
    expect(normalizeEnds(type, { sourceEntityId: 'COMPANY', sourceRecordId: 'acme', targetEntityId: 'CONTACT', targetRecordId: 'kim' })).toEqual({
      sourceEntityId: 'CONTACT',
      sourceRecordId: 'kim',
      targetEntityId: 'COMPANY',
      targetRecordId: 'acme',
    });
  });

  it('answers undefined when the entities match the definition in neither direction', () => {
    expect(normalizeEnds(type, { sourceEntityId: 'CONTACT', sourceRecordId: 'a', targetEntityId: 'CONTACT', targetRecordId: 'b' })).toBeUndefined();
    expect(normalizeEnds(type, { sourceEntityId: 'DEAL', sourceRecordId: 'a', targetEntityId: 'COMPANY', targetRecordId: 'b' })).toBeUndefined();
  });

  it('keeps the direction given for a type whose two entities are the same', () => {
    const same = { sourceEntityId: 'CONTACT', targetEntityId: 'CONTACT' };
    const ends = { sourceEntityId: 'CONTACT', sourceRecordId: 'b', targetEntityId: 'CONTACT', targetRecordId: 'a' };
    expect(normalizeEnds(same, ends)).toEqual(ends);
  });
});
