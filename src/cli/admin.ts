import { NestFactory } from '@nestjs/core';
import { parseArgs } from 'node:util';
import type { INestApplicationContext } from '@nestjs/common';
import { AppModule } from '../app.module';
import { ROLES, type Role } from '../common/auth/roles';
import { resolveMasterKey } from '../common/auth/secret-box';
import { isId } from '../common/ids/ids';
import { QuotaService } from '../common/quota/quota.service';
import { loadConfig } from '../config/app-config';
import { resolveDatabase, type ResolvedDatabase } from '../database/resolve-database';
import { AccountsService } from '../modules/accounts/accounts.service';
import { ApiKeysService } from '../modules/api-keys/api-keys.service';
import { failureMessage } from './failure-message';
import { LIMIT_NAMES, TIERS, type LimitName, type Tier } from '../common/quota/limits';

/** A failure the operator can fix: its message is printed as is, exit code 1. */
class UsageError extends Error {}

type Options = Record<string, string | undefined>;
type Command = (app: INestApplicationContext, options: Options) => Promise<unknown>;

const USAGE = `usage: npm run --silent admin -- <command> [options]

  account:create    --name <name> [--plan ${TIERS.join('|')}]
  account:set-plan  --account <accountId> --plan <tier>
  account:set-limit --account <accountId> --limit <${LIMIT_NAMES.join('|')}> --value <n|null|default>
  key:create        --account <accountId> --role <${ROLES.join('|')}>
  key:revoke        --key <apiKey>
  usage:recount     --account <accountId>

Prints one JSON document on stdout; errors go to stderr with a non-zero exit code.`;

function required(options: Options, name: string): string {
  const value = options[name];
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], name: string): T {
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`--${name} must be one of ${allowed.join(', ')}`);
  return value as T;
}

async function existingAccount(app: INestApplicationContext, options: Options): Promise<string> {
  const accountId = required(options, 'account');
  if (!isId(accountId, 'account')) throw new UsageError(`--account must be an account ID (CRMAC…), got ${accountId}`);
  if (!(await app.get(AccountsService).exists(accountId))) throw new UsageError(`no account ${accountId}`);
  return accountId;
}

const COMMANDS: Record<string, { options: string[]; run: Command }> = {
  'account:create': {
    options: ['name', 'plan'],
    run: async (app, o) => {
      const name = required(o, 'name');
      return app.get(AccountsService).create(name, oneOf(o.plan ?? 'FREE', TIERS, 'plan'));
    },
  },
  'account:set-plan': {
    options: ['account', 'plan'],
    run: async (app, o) => {
      const tier: Tier = oneOf(required(o, 'plan'), TIERS, 'plan');
      const accountId = await existingAccount(app, o);
      await app.get(AccountsService).setPlan(accountId, tier);
      return { accountId, tier };
    },
  },
  'account:set-limit': {
    options: ['account', 'limit', 'value'],
    run: async (app, o) => {
      const limit: LimitName = oneOf(required(o, 'limit'), LIMIT_NAMES, 'limit');
      const raw = required(o, 'value');
      if (raw !== 'null' && raw !== 'default' && !/^\d{1,15}$/.test(raw)) throw new UsageError('--value must be a whole number, null (unlimited) or default (the plan’s value)');
      const accountId = await existingAccount(app, o);
      const accounts = app.get(AccountsService);
      if (raw === 'default') {
        await accounts.clearLimit(accountId, limit);
        return { accountId, limit, value: 'default' };
      }
      const value = raw === 'null' ? null : Number(raw);
      await accounts.setLimit(accountId, limit, value);
      return { accountId, limit, value };
    },
  },
  'key:create': {
    options: ['account', 'role', 'name'],
    run: async (app, o) => {
      const role: Role = oneOf(required(o, 'role'), ROLES, 'role');
      const accountId = await existingAccount(app, o);
      return app.get(AccountsService).createMemberWithKey(accountId, role, o.name ?? null);
    },
  },
  'key:revoke': {
    options: ['key'],
    run: async (app, o) => {
      const apiKey = required(o, 'key');
      const revoked = await app.get(ApiKeysService).revokeAnywhere(apiKey);
      if (!revoked) throw new UsageError(`no API key ${apiKey}`);
      return revoked;
    },
  },
  'usage:recount': {
    options: ['account'],
    run: async (app, o) => {
      const accountId = await existingAccount(app, o);
      const repaired = await app.get(QuotaService).recount(accountId);
      return { accountId, repaired };
    },
  },
};

/** Runs one command against the configured database; answers what it printed and its exit code. */
export async function runAdmin(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ stdout: string; stderr: string; code: number }> {
  const [name, ...rest] = argv;
  const command = name ? COMMANDS[name] : undefined;
  if (!command) return { stdout: '', stderr: `${name ? `unknown command: ${name}\n` : ''}${USAGE}\n`, code: 2 };
  let options: Options;
  try {
    const parsed = parseArgs({ args: rest, options: Object.fromEntries(command.options.map((o) => [o, { type: 'string' as const }])), strict: true, allowPositionals: false });
    options = parsed.values as Options;
  } catch (error) {
    return { stdout: '', stderr: `${(error as Error).message}\n${USAGE}\n`, code: 2 };
  }

  let database: ResolvedDatabase | undefined;
  let app: INestApplicationContext | undefined;
  let answer: { stdout: string; stderr: string; code: number };
  try {
    // JOB_WORKERS=false: a command of a few milliseconds takes no job of the servers' queue.
    const config = loadConfig({ ...env, LOG_LEVEL: 'silent', JOB_WORKERS: 'false' });
    const masterKey = resolveMasterKey(config);
    database = await resolveDatabase(config);
    // abortOnError: false, or Nest exits the process on a failed start, before anything is printed.
    app = await NestFactory.createApplicationContext(AppModule.register({ ...config, databaseUrl: database.url, masterKey }), { logger: false, abortOnError: false });
    const result = await command.run(app, options);
    answer = { stdout: `${JSON.stringify(result, null, 2)}\n`, stderr: '', code: 0 };
  } catch (error) {
    answer = { stdout: '', stderr: `error: ${failureMessage(error, [env.DATABASE_URL, database?.url])}\n`, code: 1 };
  }
  // What a command did is committed by now: a failure to close is reported, never turned into a
  // failed command that an operator would run again (a second account, a second key).
  for (const close of [() => app?.close(), () => database?.release()]) {
    try {
      await close();
    } catch (error) {
      answer.stderr += `warning: while closing: ${failureMessage(error, [env.DATABASE_URL, database?.url])}\n`;
    }
  }
  return answer;
}

if (require.main === module) {
  runAdmin(process.argv.slice(2)).then(
    ({ stdout, stderr, code }) => {
      process.stdout.write(stdout);
      process.stderr.write(stderr);
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`error: ${failureMessage(error, [process.env.DATABASE_URL])}\n`);
      process.exitCode = 1;
    },
  );
}
