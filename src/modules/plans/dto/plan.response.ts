import { ApiProperty } from '@nestjs/swagger';
import { TIERS, type Tier } from '../../../common/quota/limits';

const LIMITS_EXAMPLE = {
  'entities.max': 5,
  'properties.maxPerEntity': 20,
  'records.max': 1000,
  'relationshipTypes.maxPerEntity': 5,
  'relationships.max': null,
};

/** The schema of GET /plans/me (PlansService answers it as a PlanUsage). */
export class PlanResponse {
  @ApiProperty({ enum: TIERS, example: 'FREE' })
  tier: Tier;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer', nullable: true },
    description: 'The effective limit of each limit name (the plan’s, or the account’s override); `null` is unlimited.',
    example: LIMITS_EXAMPLE,
  })
  limits: Record<string, number | null>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { oneOf: [{ type: 'integer' }, { type: 'object', additionalProperties: { type: 'integer' } }] },
    description: 'Account-wide limits as a number; per-entity limits (`…maxPerEntity`) as `{ <entityId>: used }`.',
    example: {
      'entities.max': 2,
      'properties.maxPerEntity': { CRMET126042309153012300K7Q2M9X4B: 3 },
      'records.max': 120,
      'relationshipTypes.maxPerEntity': { CRMET126042309153012300K7Q2M9X4B: 1, CRMET126042309153012301K7Q2M9X4B: 1 },
      'relationships.max': 48,
    },
  })
  usage: Record<string, number | Record<string, number>>;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer', nullable: true },
    description: 'The limits an operator set for this account (`account:set-limit`), overriding the plan’s.',
    example: { 'relationships.max': null },
  })
  overrides: Record<string, number | null>;
}
