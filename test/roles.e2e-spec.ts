import type { Role } from '../src/common/auth/roles';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';

/**
 * SPEC §3's role matrix, one route per class of route: each role either passes the role check
 * (and gets the route's answer) or gets 403 Forbidden. New classes of route add a row.
 */
describe('Role matrix (SPEC §3)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let n = 0;

  beforeAll(async () => {
    t = await createTestApp();
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
  });
  afterAll(() => t.close());

  const ROLES: Role[] = ['VIEWER', 'MEMBER', 'DEVELOPER', 'OWNER'];
  const rows: { route: string; least: Role; passedStatus?: number; call: (role: Role) => ReturnType<SeededAccount['as']['OWNER']['get']> }[] = [
    { route: 'GET /entities (a read)', least: 'VIEWER', call: (role) => account.as[role].get('/crm-core/v1/entities') },
    { route: 'GET /plans/me (a read)', least: 'VIEWER', call: (role) => account.as[role].get('/crm-core/v1/plans/me') },
    { route: 'GET /records (a read)', least: 'VIEWER', call: (role) => account.as[role].get(`/crm-core/v1/records?entityId=${entityId}`) },
    { route: 'POST /records (a record write)', least: 'MEMBER', call: (role) => account.as[role].post('/crm-core/v1/records', { entityId, name: `r${n++}` }) },
    {
      route: 'POST /relationships/types (a relationship-type write)',
      least: 'MEMBER',
      call: (role) => account.as[role].post('/crm-core/v1/relationships/types', { name: `t${n++}`, sourceEntityId: entityId, targetEntityId: entityId }),
    },
    {
      route: 'POST /relationships/bulk (a relationship write)',
      least: 'MEMBER',
      // Past the role check, the unknown type is a 404.
      passedStatus: 404,
      call: (role) =>
        account.as[role].post('/crm-core/v1/relationships/bulk', {
          relationshipTypeId: 'CRMRT1260101000000000AAAAAAAAAAA',
          sourceEntityId: entityId,
          sourceRecordIds: ['CRMRC1260101000000000AAAAAAAAAAA'],
          targetEntityId: entityId,
          targetRecordIds: ['CRMRC1260101000000000AAAAAAAAAAB'],
        }),
    },
    { route: 'POST /properties (a property write)', least: 'OWNER', call: (role) => account.as[role].post('/crm-core/v1/properties', { entityId, name: `p${n++}`, fieldType: 'TEXT' }) },
    { route: 'POST /entities (an entity write)', least: 'OWNER', call: (role) => account.as[role].post('/crm-core/v1/entities', { name: 'E', slug: `e${n++}` }) },
    { route: 'POST /api-keys (API keys)', least: 'DEVELOPER', call: (role) => account.as[role].post('/crm-core/v1/api-keys', { role: 'VIEWER' }) },
    { route: 'GET /api-keys (API keys)', least: 'DEVELOPER', call: (role) => account.as[role].get('/crm-core/v1/api-keys') },
  ];

  describe.each(rows)('$route needs $least', ({ least, passedStatus, call }) => {
    it.each(ROLES)('%s', async (role) => {
      const res = await call(role);
      if (ROLES.indexOf(role) < ROLES.indexOf(least)) expectError(res, 403, 'Forbidden');
      else if (passedStatus) expect(res.status).toBe(passedStatus);
      else expect(res.status).toBeLessThan(300);
    });
  });
});
