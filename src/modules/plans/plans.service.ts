import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { LIMIT_NAMES, type LimitName, type Tier } from '../../common/quota/limits';

export interface PlanUsage {
  tier: Tier;
  /** The effective limits (overrides applied); null = unlimited. */
  limits: Record<LimitName, number | null>;
  /** Account-wide limits as a number; per-entity limits as `{ [entityId]: used }`. */
  usage: Record<LimitName, number | Record<string, number>>;
  /** The limits this account overrides, with their values. */
  overrides: Partial<Record<LimitName, number | null>>;
}

const toNumber = (v: string | null) => (v === null ? null : Number(v));

@Injectable()
export class PlansService {
  constructor(private readonly dataSource: DataSource) {}

  async forAccount(accountId: string): Promise<PlanUsage> {
    const [{ tier }]: { tier: Tier }[] = await this.dataSource.query(`SELECT tier FROM accounts WHERE account_id = $1`, [accountId]);
    const planRows: { limit_name: LimitName; value: string | null }[] = await this.dataSource.query(
      `SELECT limit_name, value FROM plan_limits WHERE tier = $1`,
      [tier],
    );
    const overrideRows: { limit_name: LimitName; value: string | null }[] = await this.dataSource.query(
      `SELECT limit_name, value FROM account_limit_overrides WHERE account_id = $1`,
      [accountId],
    );
    const usageRows: { limit_name: LimitName; scope_id: string; used: string }[] = await this.dataSource.query(
      `SELECT limit_name, scope_id, used FROM account_usage WHERE account_id = $1 AND used > 0 ORDER BY limit_name, scope_id`,
      [accountId],
    );
    const overrides = Object.fromEntries(overrideRows.map((r) => [r.limit_name, toNumber(r.value)]));
    const limits = Object.fromEntries(
      LIMIT_NAMES.map((name) => [name, name in overrides ? overrides[name] : toNumber(planRows.find((r) => r.limit_name === name)?.value ?? null)]),
    ) as PlanUsage['limits'];
    const usage = Object.fromEntries(LIMIT_NAMES.map((name) => [name, name.endsWith('maxPerEntity') ? {} : 0])) as PlanUsage['usage'];
    for (const row of usageRows) {
      if (row.scope_id === '') usage[row.limit_name] = Number(row.used);
      else (usage[row.limit_name] as Record<string, number>)[row.scope_id] = Number(row.used);
    }
    return { tier, limits, usage, overrides };
  }
}
