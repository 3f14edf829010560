import request from 'supertest';
import { generateId } from '../src/common/ids/ids';
import { AccountsService } from '../src/modules/accounts/accounts.service';
import { createTestApp, type TestApp } from './utils/create-app';
import { expectError } from './utils/errors';
import { seedAccount, type SeededAccount } from './utils/seed';
import { signed, type SignedClient } from './utils/signing';

const PATH = '/crm-core/v1/activities';
const RECORDS = '/crm-core/v1/records';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

describe('Activities (SPEC §11)', () => {
  let t: TestApp;
  let account: SeededAccount;
  let entityId: string;
  let recordId: string;
  /** A second MEMBER of the account, who created none of the activities. */
  let otherMember: SignedClient;
  let otherMemberId: string;

  const record = async (name: string) => (await account.as.MEMBER.post(RECORDS, { entityId, name }).expect(201)).body.recordId as string;
  const create = async (body: object, as: SignedClient = account.as.MEMBER) => (await as.post(PATH, { activityType: 'NOTE', title: 'note', recordId, ...body }).expect(201)).body;
  /** Every activity ID a list gives, following nextKey one item a page (so cursors are checked too). */
  const listAll = async (as: SignedClient, query: Record<string, string> = {}): Promise<string[]> => {
    const ids: string[] = [];
    let startKey: string | undefined;
    do {
      const page = await as.get(PATH).query({ ...query, limit: 1, ...(startKey ? { startKey } : {}) }).expect(200);
      ids.push(...page.body.data.map((a: { activityId: string }) => a.activityId));
      startKey = page.body.nextKey ?? undefined;
    } while (startKey);
    return ids;
  };

  beforeAll(async () => {
    t = await createTestApp();
  });
  beforeEach(async () => {
    account = await seedAccount(t);
    entityId = (await account.as.OWNER.post('/crm-core/v1/entities', { name: 'Contact', slug: 'contact' }).expect(201)).body.entityId;
    recordId = await record('홍길동');
    const issued = await t.app.get(AccountsService).createMemberWithKey(account.accountId, 'MEMBER');
    otherMember = signed(t.app.getHttpServer(), issued);
    otherMemberId = issued.memberId;
  });
  afterAll(async () => {
    await t.close();
  });

  describe('POST /activities', () => {
    it('stores an activity about a record and answers it exactly (201)', async () => {
      const sent = {
        recordId,
        activityType: 'CALL',
        title: '도입 일정 통화',
        body: '다음 주 화요일에 견적서',
        scheduledAt: '2026-12-15T10:00:00+09:00',
        dueDate: '2026-12-16T18:00:00+09:00',
        outcome: 'PENDING',
        assignedMemberIds: [account.keys.OWNER.memberId, account.keys.OWNER.memberId, otherMemberId],
        relatedRecordIds: [await record('Acme')],
      };
      const res = await account.as.MEMBER.post(PATH, sent).expect(201);
      expect(res.body).toEqual({
        activityId: expect.stringMatching(/^CRMAT1\d{15}[A-Z0-9]{11}$/),
        accountId: account.accountId,
        recordId,
        activityType: 'CALL',
        title: sent.title,
        body: sent.body,
        scheduledAt: '2026-12-15T01:00:00.000Z',
        dueDate: '2026-12-16T09:00:00.000Z',
        outcome: 'PENDING',
        visibility: 'PUBLIC',
        assignedMemberIds: [account.keys.OWNER.memberId, otherMemberId],
        relatedRecordIds: sent.relatedRecordIds,
        createdBy: account.keys.MEMBER.memberId,
        dateCreated: expect.stringMatching(ISO),
        dateUpdated: expect.stringMatching(ISO),
      });
      expect((await account.as.VIEWER.get(`${PATH}/${res.body.activityId}`).expect(200)).body).toEqual(res.body);
    });

    it('a calendar item has no record: recordId null or absent, listed with recordId=CALENDAR', async () => {
      const meeting = await create({ recordId: null, activityType: 'MEETING', title: '팀 회의' });
      const absent = await create({ recordId: undefined, title: '메모' });
      await create({ title: 'about the record' });
      expect(meeting.recordId).toBeNull();
      expect(absent).toMatchObject({ recordId: null, body: null, scheduledAt: null, dueDate: null, outcome: null });
      expect(await listAll(account.as.VIEWER, { recordId: 'CALENDAR' })).toEqual([absent.activityId, meeting.activityId]);
    });

    it('an assignee or related record outside the account is a 400 naming the place of the first; the record must exist and be out of the trash (404)', async () => {
      const other = await seedAccount(t);
      const strangerMember = other.keys.MEMBER.memberId;
      const missingRecord = generateId('record');
      let res = await account.as.MEMBER.post(PATH, { activityType: 'TASK', title: 't', assignedMemberIds: [account.keys.OWNER.memberId, strangerMember, generateId('member')] });
      expectError(res, 400, 'ValidationError');
      expect(res.body.errorMessage).toContain('assignedMemberIds[1]');
      expect(res.body.errorMessage).not.toContain(strangerMember);
      res = await account.as.MEMBER.post(PATH, { activityType: 'TASK', title: 't', relatedRecordIds: [recordId, missingRecord] });
      expectError(res, 400, 'ValidationError');
      expect(res.body.errorMessage).toContain('relatedRecordIds[1]');
      expectError(await account.as.MEMBER.post(PATH, { activityType: 'TASK', title: 't', recordId: missingRecord }), 404, 'NotFound');
      const otherEntity = (await other.as.OWNER.post('/crm-core/v1/entities', { name: 'C', slug: 'c' }).expect(201)).body.entityId;
      const otherRecord = (await other.as.MEMBER.post(RECORDS, { entityId: otherEntity, name: 'x' }).expect(201)).body.recordId;
      expectError(await account.as.MEMBER.post(PATH, { activityType: 'TASK', title: 't', recordId: otherRecord }), 404, 'NotFound');
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
      expectError(await account.as.MEMBER.post(PATH, { activityType: 'TASK', title: 't', recordId }), 404, 'NotFound');
      expect(await listAll(account.as.OWNER)).toEqual([]);
    });

    it('refuses bad bodies with 400, a VIEWER with 403, an unsigned call with 401', async () => {
      const bad = [
        { activityType: 'LUNCH', title: 't' },
        { activityType: 'NOTE', title: '' },
        { activityType: 'NOTE', title: 'x'.repeat(201) },
        { activityType: 'NOTE', title: 't', body: 'x'.repeat(65_537) },
        { activityType: 'NOTE', title: 't', scheduledAt: '2026-12-15' },
        { activityType: 'NOTE', title: 't', dueDate: '2026-02-30T10:00:00Z' },
        { activityType: 'NOTE', title: 't', outcome: 'DONE' },
        { activityType: 'NOTE', title: 't', visibility: 'SECRET' },
        { activityType: 'NOTE', title: 't', assignedMemberIds: Array.from({ length: 21 }, () => generateId('member')) },
        { activityType: 'NOTE', title: 't', relatedRecordIds: Array.from({ length: 51 }, () => generateId('record')) },
        { activityType: 'NOTE', title: 't', recordId: 'CALENDAR' },
        { activityType: 'NOTE', title: 't', createdBy: account.keys.OWNER.memberId },
      ];
      for (const body of bad) expectError(await account.as.MEMBER.post(PATH, body), 400, 'ValidationError');
      expect((await account.as.MEMBER.post(PATH, { activityType: 'NOTE', title: 't', body: 'x'.repeat(65_536) })).status).toBe(201);
      expectError(await account.as.VIEWER.post(PATH, { activityType: 'NOTE', title: 't' }), 403, 'Forbidden');
      const unsigned = await request(t.app.getHttpServer()).post(PATH).send({ activityType: 'NOTE', title: 't' });
      expect(unsigned.status).toBe(401);
      expect(unsigned.body).toEqual({ errorCode: 'Unauthorized', errorMessage: '권한이 없습니다.' });
    });
  });

  describe('changing and deleting', () => {
    it('a MEMBER changes only what it created (403 otherwise); an OWNER anything; null clears, lists are replaced whole', async () => {
      const mine = await create({ title: 'mine', scheduledAt: inDays(1), assignedMemberIds: [otherMemberId] });
      expectError(await otherMember.patch(`${PATH}/${mine.activityId}`, { title: 'theirs' }), 403, 'Forbidden');
      expectError(await otherMember.delete(`${PATH}/${mine.activityId}`), 403, 'Forbidden');
      expectError(await account.as.DEVELOPER.patch(`${PATH}/${mine.activityId}`, { title: 'dev' }), 403, 'Forbidden');
      const changed = await account.as.MEMBER.patch(`${PATH}/${mine.activityId}`, { title: 'renamed', scheduledAt: null, outcome: 'COMPLETED', assignedMemberIds: [] }).expect(200);
      expect(changed.body).toMatchObject({ title: 'renamed', scheduledAt: null, outcome: 'COMPLETED', assignedMemberIds: [], createdBy: account.keys.MEMBER.memberId, recordId });
      expect(changed.body.dateCreated).toBe(mine.dateCreated);
      const byOwner = await account.as.OWNER.patch(`${PATH}/${mine.activityId}`, { visibility: 'PRIVATE', relatedRecordIds: [recordId] }).expect(200);
      expect(byOwner.body).toMatchObject({ visibility: 'PRIVATE', relatedRecordIds: [recordId], title: 'renamed' });
      expectError(await account.as.MEMBER.patch(`${PATH}/${mine.activityId}`, { recordId: null }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.patch(`${PATH}/${mine.activityId}`, { title: null }), 400, 'ValidationError');
      expectError(await account.as.MEMBER.patch(`${PATH}/${mine.activityId}`, { assignedMemberIds: [generateId('member')] }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.patch(`${PATH}/${mine.activityId}`, { title: 'v' }), 403, 'Forbidden');

      const deleted = await account.as.OWNER.delete(`${PATH}/${mine.activityId}`).expect(200);
      expect(deleted.body.activityId).toBe(mine.activityId);
      expectError(await account.as.OWNER.get(`${PATH}/${mine.activityId}`), 404, 'NotFound');
      expectError(await account.as.OWNER.delete(`${PATH}/${mine.activityId}`), 404, 'NotFound');
    });

    it('another account sees none of them: 404 on GET, PATCH and DELETE, nothing in its lists', async () => {
      const note = await create({});
      const other = await seedAccount(t);
      expectError(await other.as.OWNER.get(`${PATH}/${note.activityId}`), 404, 'NotFound');
      expectError(await other.as.OWNER.patch(`${PATH}/${note.activityId}`, { title: 'x' }), 404, 'NotFound');
      expectError(await other.as.OWNER.delete(`${PATH}/${note.activityId}`), 404, 'NotFound');
      expect(await listAll(other.as.OWNER)).toEqual([]);
      expectError(await other.as.OWNER.get(PATH).query({ recordId }), 404, 'NotFound');
      expectError(await other.as.OWNER.get(`${PATH}/record/${recordId}/scheduled`), 404, 'NotFound');
    });
  });

  describe('PRIVATE activities exist only for their creator, their assignees and OWNERs', () => {
    it('through every list filter, GET and the upcoming list, for keys of each role', async () => {
      // Created by MEMBER, assigned to DEVELOPER: VIEWER and the other MEMBER must not see it.
      const secret = await create({ activityType: 'CALL', visibility: 'PRIVATE', assignedMemberIds: [account.keys.DEVELOPER.memberId], dueDate: inDays(2) });
      const shared = await create({ activityType: 'CALL', assignedMemberIds: [account.keys.DEVELOPER.memberId], dueDate: inDays(3) });
      const calendarSecret = await create({ recordId: null, visibility: 'PRIVATE', assignedMemberIds: [account.keys.DEVELOPER.memberId] });
      const filters: Record<string, string>[] = [{}, { recordId }, { entityId }, { activityType: 'CALL' }, { assignedMemberId: account.keys.DEVELOPER.memberId }];
      const sees = { OWNER: true, DEVELOPER: true, MEMBER: true, VIEWER: false } as const;
      for (const [role, visible] of Object.entries(sees)) {
        const as = account.as[role as keyof typeof sees];
        for (const filter of filters) {
          const ids = await listAll(as, filter);
          expect({ role, filter, sees: ids.includes(secret.activityId) }).toEqual({ role, filter, sees: visible });
          expect(ids).toContain(shared.activityId);
        }
        expect({ role, calendar: (await listAll(as, { recordId: 'CALENDAR' })).includes(calendarSecret.activityId) }).toEqual({ role, calendar: visible });
        const upcoming = (await as.get(`${PATH}/record/${recordId}/scheduled`).expect(200)).body.data.map((a: { activityId: string }) => a.activityId);
        expect({ role, upcoming }).toEqual({ role, upcoming: visible ? [secret.activityId, shared.activityId] : [shared.activityId] });
        if (visible) await as.get(`${PATH}/${secret.activityId}`).expect(200);
        else expectError(await as.get(`${PATH}/${secret.activityId}`), 404, 'NotFound');
      }
      for (const filter of filters) expect(await listAll(otherMember, filter)).not.toContain(secret.activityId);
      expectError(await otherMember.get(`${PATH}/${secret.activityId}`), 404, 'NotFound');
      // Hidden, so not "forbidden": a change by someone who cannot see it is a 404, like an ID that exists nowhere.
      expectError(await otherMember.patch(`${PATH}/${secret.activityId}`, { title: 'x' }), 404, 'NotFound');
      expectError(await otherMember.delete(`${PATH}/${secret.activityId}`), 404, 'NotFound');
      // An assignee sees it but may not change it.
      expectError(await account.as.DEVELOPER.patch(`${PATH}/${secret.activityId}`, { title: 'x' }), 403, 'Forbidden');
    });
  });

  describe('GET /activities/record/:recordId/scheduled', () => {
    it('the record’s upcoming activities, soonest first by the sooner of scheduledAt and dueDate still ahead; past ones left out', async () => {
      const inThree = await create({ title: 'in 3 days', scheduledAt: inDays(3) });
      const dueTomorrow = await create({ title: 'due tomorrow', dueDate: inDays(1) });
      const startedDueLater = await create({ title: 'began yesterday, due in 2 days', scheduledAt: inDays(-1), dueDate: inDays(2) });
      await create({ title: 'past', scheduledAt: inDays(-2), dueDate: inDays(-1) });
      await create({ title: 'unscheduled' });
      await create({ recordId: await record('other'), title: 'another record', scheduledAt: inDays(1) });
      const res = await account.as.VIEWER.get(`${PATH}/record/${recordId}/scheduled`).expect(200);
      expect(Object.keys(res.body)).toEqual(['data']);
      expect(res.body.data.map((a: { activityId: string }) => a.activityId)).toEqual([dueTomorrow.activityId, startedDueLater.activityId, inThree.activityId]);
      const two = await account.as.VIEWER.get(`${PATH}/record/${recordId}/scheduled`).query({ limit: 2 }).expect(200);
      expect(two.body.data).toHaveLength(2);
      expectError(await account.as.VIEWER.get(`${PATH}/record/${recordId}/scheduled`).query({ limit: 0 }), 400, 'ValidationError');
      expectError(await account.as.VIEWER.get(`${PATH}/record/${generateId('record')}/scheduled`), 404, 'NotFound');
      expectError(await account.as.VIEWER.get(`${PATH}/record/not-an-id/scheduled`), 400, 'ValidationError');
    });

    it('defaults to 20', async () => {
      for (let i = 0; i < 22; i++) await create({ title: `t${i}`, scheduledAt: inDays(i + 1) });
      expect((await account.as.VIEWER.get(`${PATH}/record/${recordId}/scheduled`).expect(200)).body.data).toHaveLength(20);
    });
  });

  describe('records that go to the trash and away', () => {
    it('a trashed record’s activities are hidden (lists, GET, upcoming) and come back on restore', async () => {
      const note = await create({ scheduledAt: inDays(1) });
      const calendar = await create({ recordId: null });
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).expect(200);
      expect(await listAll(account.as.OWNER)).toEqual([calendar.activityId]);
      expect(await listAll(account.as.OWNER, { entityId })).toEqual([]);
      expect(await listAll(account.as.OWNER, { recordId })).toEqual([]);
      expectError(await account.as.OWNER.get(`${PATH}/${note.activityId}`), 404, 'NotFound');
      expectError(await account.as.OWNER.patch(`${PATH}/${note.activityId}`, { title: 'x' }), 404, 'NotFound');
      expectError(await account.as.OWNER.get(`${PATH}/record/${recordId}/scheduled`), 404, 'NotFound');
      await account.as.MEMBER.post(`${RECORDS}/${recordId}/restore`).expect(200);
      expect(await listAll(account.as.OWNER)).toEqual([calendar.activityId, note.activityId]);
      await account.as.OWNER.get(`${PATH}/${note.activityId}`).expect(200);
    });

    it('a permanent delete removes the record’s activities and takes it out of related lists', async () => {
      const related = await record('related');
      const note = await create({});
      const mentioning = await create({ recordId: null, relatedRecordIds: [related, recordId] });
      await account.as.MEMBER.delete(`${RECORDS}/${recordId}`).query({ permanent: true }).expect(200);
      expectError(await account.as.OWNER.get(`${PATH}/${note.activityId}`), 404, 'NotFound');
      expect((await account.as.OWNER.get(`${PATH}/${mentioning.activityId}`).expect(200)).body.relatedRecordIds).toEqual([related]);
      expect(await listAll(account.as.OWNER)).toEqual([mentioning.activityId]);
    });
  });

  it('lists filter by recordId, entityId, activityType and assignedMemberId, newest first; a filter naming nothing in the account is a 404', async () => {
    const other = await record('other');
    const a1 = await create({ activityType: 'TASK', assignedMemberIds: [otherMemberId] });
    const a2 = await create({ recordId: other, activityType: 'CALL' });
    const a3 = await create({ activityType: 'CALL' });
    expect(await listAll(account.as.VIEWER)).toEqual([a3.activityId, a2.activityId, a1.activityId]);
    expect(await listAll(account.as.VIEWER, { recordId })).toEqual([a3.activityId, a1.activityId]);
    expect(await listAll(account.as.VIEWER, { activityType: 'CALL' })).toEqual([a3.activityId, a2.activityId]);
    expect(await listAll(account.as.VIEWER, { assignedMemberId: otherMemberId })).toEqual([a1.activityId]);
    expect(await listAll(account.as.VIEWER, { entityId, activityType: 'TASK' })).toEqual([a1.activityId]);
    const page = await account.as.VIEWER.get(PATH).query({ limit: 2 }).expect(200);
    expect(page.body.data).toHaveLength(2);
    expect(page.body.nextKey).toEqual(expect.any(String));
    expectError(await account.as.VIEWER.get(PATH).query({ recordId: generateId('record') }), 404, 'NotFound');
    expectError(await account.as.VIEWER.get(PATH).query({ entityId: generateId('entity') }), 404, 'NotFound');
    expectError(await account.as.VIEWER.get(PATH).query({ recordId: 'nope' }), 400, 'ValidationError');
    expectError(await account.as.VIEWER.get(PATH).query({ activityType: 'LUNCH' }), 400, 'ValidationError');
    expectError(await account.as.VIEWER.get(PATH).query({ startKey: 'garbage' }), 400, 'ValidationError');
  });
});
