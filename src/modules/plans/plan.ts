export const TIERS = ['FREE', 'STARTER', 'PROFESSIONAL', 'ENTERPRISE'] as const;
export type Tier = (typeof TIERS)[number];

export const LIMIT_NAMES = ['entities.max', 'properties.maxPerEntity', 'records.max', 'relationshipTypes.maxPerEntity', 'relationships.max'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
