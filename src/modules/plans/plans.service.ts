import { Injectable } from '@nestjs/common';
import { TransactionHost } from '@nestjs-cls/transactional';
import type { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { LIMIT_NAMES, type LimitName, type Tier } from '../../common/quota/limits';
import { QuotaService } from '../../common/quota/quota.service';
import { PlansRepository } from './plans.repository';

export interface PlanUsage {
  tier: Tier;
  /** The effective limits (overrides applied); null = unlimited. */
  limits: Record<LimitName, number | null>;
  /** Account-wide limits as a number; per-entity limits as `{ [entityId]: used }`. */
  usage: Record<LimitName, number | Record<string, number>>;
  /** The limits this account overrides, with their values. */
  overrides: Partial<Record<LimitName, number | null>>;
}

@Injectable()
export class PlansService {
  constructor(
    private readonly txHost: TransactionHost<TransactionalAdapterTypeOrm>,
    private readonly plans: PlansRepository,
    private readonly quota: QuotaService,
  ) {}

  /** The limits as the quota trigger enforces them, and the usage, read from one snapshot. */
  forAccount(accountId: string): Promise<PlanUsage> {
    return this.txHost.withTransaction({ isolationLevel: 'REPEATABLE READ' }, async () => {
      const effective = await this.plans.effectiveLimits(accountId);
      const used = await this.quota.usage(accountId);
      const limits = Object.fromEntries(LIMIT_NAMES.map((name) => [name, effective.find((l) => l.limitName === name)?.value ?? null])) as PlanUsage['limits'];
      const overrides = Object.fromEntries(effective.filter((l) => l.overridden).map((l) => [l.limitName, l.value]));
      const usage = Object.fromEntries(LIMIT_NAMES.map((name) => [name, name.endsWith('maxPerEntity') ? {} : 0])) as PlanUsage['usage'];
      for (const { limit, scopeId, amount } of used) {
        if (scopeId === '') usage[limit] = amount;
        else (usage[limit] as Record<string, number>)[scopeId] = amount;
      }
      return { tier: effective[0].tier, limits, usage, overrides };
    });
  }
}
