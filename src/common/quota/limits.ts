/**
 * The plan tiers and the limits they set (SPEC §4). Here, beside the quota machinery, so that both
 * `common/quota` and the modules that meter or report a limit can name them; a new limit is one
 * more name here and its values per tier in `plan_limits` (a migration).
 */
export const TIERS = ['FREE', 'STARTER', 'PROFESSIONAL', 'ENTERPRISE'] as const;
export type Tier = (typeof TIERS)[number];

export const LIMIT_NAMES = ['entities.max', 'properties.maxPerEntity', 'records.max', 'relationshipTypes.maxPerEntity', 'relationships.max', 'segments.maxPerEntity', 'webhooks.max'] as const;
export type LimitName = (typeof LIMIT_NAMES)[number];
