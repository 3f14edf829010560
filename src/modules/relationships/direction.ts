export interface Ends {
  sourceEntityId: string;
  sourceRecordId: string;
  targetEntityId: string;
  targetRecordId: string;
}

/**
 * SPEC §6 rule 3: ends given in the reverse of the type's definition are swapped, records with
 * them; a type whose two entities are the same keeps the direction given. Undefined when the
 * entities match the definition in neither direction.
 */
export function normalizeEnds(type: { sourceEntityId: string; targetEntityId: string }, ends: Ends): Ends | undefined {
  if (ends.sourceEntityId === type.sourceEntityId && ends.targetEntityId === type.targetEntityId) return { ...ends };
  if (ends.sourceEntityId === type.targetEntityId && ends.targetEntityId === type.sourceEntityId) {
    return {
      sourceEntityId: ends.targetEntityId,
      sourceRecordId: ends.targetRecordId,
      targetEntityId: ends.sourceEntityId,
      targetRecordId: ends.sourceRecordId,
    };
  }
  return undefined;
}
