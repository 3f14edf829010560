import type { Role } from '../src/common/auth/roles';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';

/**
 * SPEC §3's role matrix, one route per class of route: each role either passes the role check
 * (whatever the route then answers) or gets 403 Forbidden. New classes of route add a row.
 */
describe('Role matrix (SPEC §3)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp();
    account = await seedAccount(t);
  });
  afterAll(() => t.close());

  const ROLES: Role[] = ['VIEWER', 'MEMBER', 'DEVELOPER', 'OWNER'];
  const rows: { route: string; least: Role; call: (role: Role) => ReturnType<SeededAccount['as']['OWNER']['get']> }[] = [
    { route: 'GET /entities (a read)', least: 'VIEWER', call: (role) => account.as[role].get('/crm-core/v1/entities') },
    { route: 'GET /plans/me (a read)', least: 'VIEWER', call: (role) => account.as[role].get('/crm-core/v1/plans/me') },
    { route: 'POST /entities (an entity write)', least: 'OWNER', call: (role) => account.as[role].post('/crm-core/v1/entities', { name: 'E', slug: `e${n++}` }) },
    { route: 'POST /api-keys (API keys)', least: 'DEVELOPER', call: (role) => account.as[role].post('/crm-core/v1/api-keys', { role: 'VIEWER' }) },
    { route: 'GET /api-keys (API keys)', least: 'DEVELOPER', call: (role) => account.as[role].get('/crm-core/v1/api-keys') },
  ];

  describe.each(rows)('$route needs $least', ({ least, call }) => {
    it.each(ROLES)('%s', async (role) => {
      const res = await call(role);
      if (ROLES.indexOf(role) >= ROLES.indexOf(least)) expect(res.status).toBeLessThan(300);
      else expectError(res, 403, 'Forbidden');
    });
  });
});
