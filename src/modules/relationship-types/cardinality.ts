export const CARDINALITIES = ['ONE_TO_ONE', 'ONE_TO_MANY', 'MANY_TO_ONE', 'MANY_TO_MANY'] as const;
export type Cardinality = (typeof CARDINALITIES)[number];

/**
 * Which side of a relationship may hold only one link of its type: under ONE_TO_MANY a target
 * has one source, under MANY_TO_ONE a source has one target, under ONE_TO_ONE both.
 */
export function exclusiveSides(cardinality: Cardinality): { sourceExclusive: boolean; targetExclusive: boolean } {
  return {
    sourceExclusive: cardinality === 'ONE_TO_ONE' || cardinality === 'MANY_TO_ONE',
    targetExclusive: cardinality === 'ONE_TO_ONE' || cardinality === 'ONE_TO_MANY',
  };
}
