import type { Role } from '../src/common/auth/roles';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { ApiKeysService } from '../src/modules/api-keys/api-keys.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed } from './utils/signing';

const PATH = '/crm-core/v1/api-keys';

describe('Revoking API keys (SPEC §3)', () => {
  let t: TestApp;
  let account: SeededAccount;

  /** A fresh key with `role` for the seeded member whose role is `memberRole`. */
  const keyOf = (memberRole: Role, role: Role = memberRole) =>
    t.app.get(ApiKeysService).issue(account.accountId, account.keys[memberRole].memberId, role, null);
  const revoke = (by: { apiKey: string; apiSecret: string }, apiKey: string) => signed(t.app.getHttpServer(), by).delete(`${PATH}/${apiKey}`);
  const stillWorks = async (key: { apiKey: string; apiSecret: string }) => {
    await signed(t.app.getHttpServer(), key).get('/crm-core/v1/plans/me').expect(200);
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
  });
  afterAll(() => t.close());

  it('a DEVELOPER cannot revoke a key of an OWNER member, whatever role that key has', async () => {
    for (const role of ['OWNER', 'DEVELOPER', 'VIEWER'] as const) {
      const target = await keyOf('OWNER', role);
      expectError(await revoke(account.keys.DEVELOPER, target.apiKey), 403, 'Forbidden');
      await stillWorks(target);
    }
  });

  it('a DEVELOPER revokes the keys of members whose role is at most DEVELOPER', async () => {
    const other = await t.app.get(ApiKeysService).issue(account.accountId, account.keys.DEVELOPER.memberId, 'DEVELOPER', null);
    for (const target of [account.keys.MEMBER, account.keys.VIEWER]) {
      const res = await revoke(account.keys.DEVELOPER, target.apiKey).expect(200);
      expect(res.body).toMatchObject({ apiKey: target.apiKey, memberId: target.memberId, dateRevoked: expect.any(String) });
    }
    const developer = await seedAccountMember('DEVELOPER');
    await revoke(account.keys.DEVELOPER, developer.apiKey).expect(200);
    await stillWorks(other);
  });

  it('an OWNER revokes the keys of every member, another OWNER’s included', async () => {
    const otherOwner = await seedAccountMember('OWNER');
    for (const target of [otherOwner, account.keys.DEVELOPER, account.keys.MEMBER, account.keys.VIEWER]) {
      await revoke(account.keys.OWNER, target.apiKey).expect(200);
    }
  });

  it('a member revokes its own member’s keys, also through a key of a lower role', async () => {
    const ownersDeveloperKey = await keyOf('OWNER', 'DEVELOPER');
    await revoke(ownersDeveloperKey, account.keys.OWNER.apiKey).expect(200);
    await stillWorks(ownersDeveloperKey);
  });

  it('a key of a lower role acts with its own role towards other members’ keys', async () => {
    const ownersDeveloperKey = await keyOf('OWNER', 'DEVELOPER');
    const otherOwner = await seedAccountMember('OWNER');
    expectError(await revoke(ownersDeveloperKey, otherOwner.apiKey), 403, 'Forbidden');
    await revoke(ownersDeveloperKey, account.keys.DEVELOPER.apiKey).expect(200);
  });

  it('a revoked key is refused at once', async () => {
    await revoke(account.keys.OWNER, account.keys.DEVELOPER.apiKey).expect(200);
    expectError(await signed(t.app.getHttpServer(), account.keys.DEVELOPER).get('/crm-core/v1/plans/me'), 401, 'Unauthorized');
  });

  /** Another member of the seeded account, with its key. */
  function seedAccountMember(role: Role) {
    return t.app.get(AccountsService).createMemberWithKey(account.accountId, role);
  }
});

describe('Creating API keys (SPEC §3)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it('the answer carrying the new secret is never cached: Cache-Control no-store', async () => {
    const account = await seedAccount(t);
    const res = await signed(t.app.getHttpServer(), account.keys.DEVELOPER).post(PATH).send({ role: 'VIEWER' }).expect(201);
    expect(res.body.apiSecret).toMatch(/^[A-Z0-9]{32}$/);
    expect(res.headers['cache-control']).toBe('no-store');
  });
});
