import pg from 'pg';
import { makePersonnummer } from '../../../test/support/personnummer.js';
import { createTestDatabase, type TestDatabase } from '../../../test/support/test-database.js';
import type { Principal } from '../auth/principal.js';
import { Problem } from '../http/problem.js';
import { AccessLog, maskPins, type AccessContext } from './access-log.js';

describe('AccessLog (real PostgreSQL)', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let log: AccessLog;
  const alice: Principal = { userId: 'alice', name: 'Alice', roles: ['caseworker'], municipalities: ['2281'] };

  beforeAll(async () => {
    db = await createTestDatabase('accesslog');
    pool = new pg.Pool({ connectionString: db.url, max: 4 });
    // pool.end() resolves before the sockets have closed; db.drop() (WITH FORCE) may then terminate
    // one, which the pool reports as an error. Harmless at teardown.
    pool.on('error', () => undefined);
    log = new AccessLog(pool, 30);
  });
  afterAll(async () => {
    await pool.end();
    await db.drop();
  });
  beforeEach(() => pool.query('TRUNCATE access_log'));

  const ctx = (over: Partial<AccessContext> = {}): AccessContext => ({
    municipality: '2281',
    userId: 'alice',
    roles: ['caseworker'],
    endpoint: 'GET /api/v1/municipalities/2281/cases/c1',
    purpose: 'GET /api/v1/municipalities/2281/cases/c1',
    ...over,
  });

  describe('the context of a read', () => {
    const req = (headers: Record<string, string | string[]> = {}) => ({
      method: 'GET',
      url: '/api/v1/municipalities/2281/cases/0b7e3c9a-1f2d-4e5a-9b8c-123456789012?validAt=2026-01-01',
      id: 'req-1',
      headers,
    });

    it('takes the reason from X-Access-Reason, else the endpoint', () => {
      expect(AccessLog.context(req({ 'x-access-reason': '  Uppföljningsmöte ' }), alice, '2281')).toEqual({
        municipality: '2281',
        userId: 'alice',
        roles: ['caseworker'],
        endpoint: 'GET /api/v1/municipalities/2281/cases/0b7e3c9a-1f2d-4e5a-9b8c-123456789012?validAt=2026-01-01',
        purpose: 'Uppföljningsmöte',
        requestId: 'req-1',
      });
      expect(AccessLog.context(req(), alice, '2281').purpose).toBe('GET /api/v1/municipalities/2281/cases/0b7e3c9a-1f2d-4e5a-9b8c-123456789012?validAt=2026-01-01');
      expect(AccessLog.context(req({ 'x-access-reason': ['a', 'b'] }), alice, '2281').purpose).toBe('a, b');
    });

    it('masks anything that looks like a personnummer, and keeps uuids and dates', () => {
      const pin = makePersonnummer('1985-03-12', 123);
      const reason = `Ringde om ${pin}, även ${pin.slice(0, 8)}-${pin.slice(8)} och ${pin.slice(2, 8)}-${pin.slice(8)} / ${pin.slice(2)}`;
      expect(maskPins(reason)).toBe('Ringde om [personnummer], även [personnummer] och [personnummer] / [personnummer]');
      expect(maskPins('case 0b7e3c9a-1f2d-4e5a-9b8c-123456789012 on 2026-01-01, round 2026-H1')).toBe('case 0b7e3c9a-1f2d-4e5a-9b8c-123456789012 on 2026-01-01, round 2026-H1');
      expect(AccessLog.context(req({ 'x-access-reason': `about ${pin}` }), alice, '2281').purpose).toBe('about [personnummer]');
    });

    it('bounds the length of the reason', () => {
      expect(AccessLog.context(req({ 'x-access-reason': 'x'.repeat(5000) }), alice, '2281').purpose).toHaveLength(500);
    });
  });

  describe('recording', () => {
    it('writes who, when, which case, which endpoint and why', async () => {
      const before = new Date();
      await log.record({ ...ctx({ purpose: 'review', requestId: 'r1' }), caseId: 'c1', pseudonym: 'p1' });
      const { rows } = await pool.query('SELECT * FROM access_log');
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        municipality: '2281',
        user_id: 'alice',
        roles: ['caseworker'],
        case_id: 'c1',
        pseudonym: 'p1',
        endpoint: 'GET /api/v1/municipalities/2281/cases/c1',
        purpose: 'review',
        request_id: 'r1',
      });
      expect(rows[0].at.getTime()).toBeGreaterThanOrEqual(before.getTime() - 1000);
    });

    it('writes one row per subject of a list read, and nothing for an empty list', async () => {
      await log.recordMany(ctx({ endpoint: 'GET /cases' }), [
        { caseId: 'c1', pseudonym: 'p1' },
        { caseId: 'c2', pseudonym: 'p2' },
        { caseId: 'c3', pseudonym: 'p3' },
      ]);
      await log.recordMany(ctx(), []);
      const { rows } = await pool.query('SELECT case_id, pseudonym, endpoint FROM access_log ORDER BY case_id');
      expect(rows).toEqual(['1', '2', '3'].map((n) => ({ case_id: `c${n}`, pseudonym: `p${n}`, endpoint: 'GET /cases' })));
    });

    it('masks a personnummer even when the caller built the entry itself', async () => {
      const pin = makePersonnummer('1970-02-02', 5);
      await log.record({ ...ctx({ purpose: `checking ${pin}`, endpoint: `GET /x?q=${pin}` }), caseId: null, pseudonym: null });
      const { rows } = await pool.query('SELECT endpoint, purpose FROM access_log');
      expect(rows[0]).toEqual({ endpoint: 'GET /x?q=[personnummer]', purpose: 'checking [personnummer]' });
    });

    it('fails loudly when the write fails, so the read fails with it', async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN READ ONLY');
        await expect(log.record({ ...ctx(), caseId: 'c1', pseudonym: 'p1' }, client)).rejects.toThrow(/read-only transaction/);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      await expect(log.record({ ...ctx({ municipality: '22' }), caseId: null, pseudonym: null })).rejects.toThrow(/municipality/);
      expect((await pool.query('SELECT count(*)::int AS n FROM access_log')).rows[0].n).toBe(0);
    });

    it('joins the caller transaction: rolled back with it', async () => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        await log.record({ ...ctx(), caseId: 'c1', pseudonym: 'p1' }, client);
        await client.query('ROLLBACK');
      } finally {
        client.release();
      }
      expect((await pool.query('SELECT count(*)::int AS n FROM access_log')).rows[0].n).toBe(0);
    });
  });

  describe('search', () => {
    const t0 = new Date('2026-02-01T10:00:00.000Z');
    const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);

    beforeEach(async () => {
      // 120 reads by alice in the same millisecond (the id breaks the tie), spread over 4 cases.
      await log.recordMany(
        ctx({ at: at(0) }),
        Array.from({ length: 120 }, (_, i) => ({ caseId: `c${i % 4}`, pseudonym: `p${i % 4}` })),
      );
      await log.record({ ...ctx({ userId: 'bob', at: at(10) }), caseId: 'c1', pseudonym: 'p1' });
      await log.record({ ...ctx({ userId: 'bob', at: at(20) }), caseId: 'c9', pseudonym: 'p9' });
      await log.record({ ...ctx({ municipality: '2262', at: at(5) }), caseId: 'c1', pseudonym: 'p1' });
    });

    it('pages newest first through everything of one municipality, without gaps or repeats', async () => {
      const seen: string[] = [];
      let cursor: string | undefined;
      const sizes: number[] = [];
      do {
        const page = await log.search({ municipality: '2281', limit: 50, cursor });
        sizes.push(page.items.length);
        seen.push(...page.items.map((i) => i.id));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(sizes).toEqual([50, 50, 22]);
      expect(new Set(seen).size).toBe(122);
      const first = await log.search({ municipality: '2281', limit: 2 });
      expect(first.items.map((i) => [i.userId, i.caseId, i.at])).toEqual([
        ['bob', 'c9', at(20).toISOString()],
        ['bob', 'c1', at(10).toISOString()],
      ]);
      expect((await log.search({ municipality: '2262' })).items).toHaveLength(1);
    });

    it('filters by time window, user and case', async () => {
      expect((await log.search({ municipality: '2281', from: at(10) })).items.map((i) => i.caseId)).toEqual(['c9', 'c1']);
      expect((await log.search({ municipality: '2281', from: at(10), to: at(20) })).items.map((i) => i.caseId)).toEqual(['c1']);
      expect((await log.search({ municipality: '2281', userId: 'bob' })).items).toHaveLength(2);
      expect((await log.search({ municipality: '2281', caseId: 'c1', limit: 500 })).items).toHaveLength(31);
      expect((await log.search({ municipality: '2281', caseId: 'c1', userId: 'alice', limit: 500 })).items).toHaveLength(30);
    });

    it('caps the page size at 500 and rejects a forged cursor with 400', async () => {
      expect((await log.search({ municipality: '2281', limit: 10_000 })).items).toHaveLength(122);
      const bad = log.search({ municipality: '2281', cursor: 'bm90LWEtY3Vyc29y' });
      await expect(bad).rejects.toBeInstanceOf(Problem);
      await expect(bad).rejects.toMatchObject({ status: 400 });
    });
  });

  describe('retention', () => {
    it('purges entries older than the retention period (in batches) and keeps the rest', async () => {
      const now = new Date('2026-06-01T00:00:00Z');
      await pool.query(
        `INSERT INTO access_log (at, municipality, user_id, roles, endpoint, purpose)
         SELECT $1::timestamptz - make_interval(days => 31, secs => g), '2281', 'old', '{caseworker}', 'GET /x', 'GET /x'
         FROM generate_series(1, 10050) g`,
        [now],
      );
      await log.record({ ...ctx({ at: new Date(now.getTime() - 29 * 86_400_000), userId: 'recent' }), caseId: 'c1', pseudonym: 'p1' });
      expect(await log.purgeExpired(now)).toBe(10_050);
      const { rows } = await pool.query('SELECT user_id FROM access_log');
      expect(rows).toEqual([{ user_id: 'recent' }]);
      expect(await log.purgeExpired(now)).toBe(0);
    });
  });
});
