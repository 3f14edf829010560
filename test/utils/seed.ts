import type { Role } from '../../src/common/auth/roles';
import { AccountsService, type IssuedCredentials } from '../../src/modules/accounts/accounts.service';
import type { Tier } from '../../src/common/quota/limits';
import type { TestApp } from './create-app';
import { signed, type SignedClient } from './signing';

export interface SeededAccount {
  accountId: string;
  /** One key per role, each of a member with that role. */
  keys: Record<Role, IssuedCredentials>;
  /** Signed clients acting with each role. */
  as: Record<Role, SignedClient>;
}

/** A fresh account with a member and key for every role: tests isolate themselves by account. */
export async function seedAccount(t: TestApp, options: { tier?: Tier; name?: string } = {}): Promise<SeededAccount> {
  const accounts = t.app.get(AccountsService);
  const { accountId } = await accounts.create(options.name ?? 'Test account', options.tier ?? 'ENTERPRISE');
  const roles: Role[] = ['OWNER', 'DEVELOPER', 'MEMBER', 'VIEWER'];
  const issued = await Promise.all(roles.map((role) => accounts.createMemberWithKey(accountId, role)));
  const keys = Object.fromEntries(roles.map((role, i) => [role, issued[i]])) as Record<Role, IssuedCredentials>;
  const server = t.app.getHttpServer();
  const as = Object.fromEntries(roles.map((role) => [role, signed(server, keys[role])])) as Record<Role, SignedClient>;
  return { accountId, keys, as };
}
