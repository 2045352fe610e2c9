import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { Metrics } from '../../observability/metrics.js';
import { eventStoreContract } from '../event-store.contract.js';
import { PostgresEventStore } from './postgres-event-store.js';

eventStoreContract('PostgreSQL', async () => {
  const db = await createTestDatabase('eventstore');
  const pool = new pg.Pool({ connectionString: db.url, max: 10 });
  // An idle connection closed by the server must not crash the suite (the adapter's own clients
  // handle their errors; this pool is the test's).
  pool.on('error', () => undefined);
  // Several batches in flight at once, as several service instances would have: then only the
  // database's append lock keeps positions in commit order, which is what the suite checks.
  const store = await PostgresEventStore.create(pool, new Metrics(false), { maxInFlight: 4 });
  return {
    store,
    transactionalInline: true,
    async close() {
      await store.close();
      await pool.end();
      await db.drop();
    },
  };
}, { uniqueEventIdsAcrossStreams: true });

describe('PostgreSQL adapter specifics', () => {
  let db: TestDatabase;
  let pool: pg.Pool;
  let store: PostgresEventStore;
  const ev = (type = 'PrioritySet', data: Record<string, unknown> = {}) => ({ type, data, metadata: { actor: 'test' } });
  const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

  beforeAll(async () => {
    db = await createTestDatabase('pgstore');
    pool = new pg.Pool({ connectionString: db.url, max: 10 });
    pool.on('error', () => undefined);
    store = await PostgresEventStore.create(pool, new Metrics(false));
    await pool.query('CREATE TABLE inline_view (stream text PRIMARY KEY, n integer NOT NULL)');
  });
  afterAll(async () => {
    await store.close();
    await pool.end();
    await db.drop();
  });

  it('commits concurrent appends to different streams together, in far fewer transactions than appends', async () => {
    const streams = Array.from({ length: 40 }, (_, i) => `batch-${i}-${Date.now()}`);
    const results = await Promise.all(streams.map((s) => store.append(s, [ev()], { expectedVersion: 'no_stream', tenant: '2281' })));
    const { rows } = await pool.query<{ tx: string }>('SELECT DISTINCT xmin::text AS tx FROM events WHERE stream_id = ANY($1)', [streams]);
    expect(results).toHaveLength(40);
    // Appends of one tick go out together: one transaction, or a few when the batch is full.
    expect(rows.length).toBeLessThanOrEqual(4);
  });

  it('runs inline projections in the append transaction; a failing one rolls back only its own append', async () => {
    const ok = `inline-ok-${Date.now()}`;
    const bad = `inline-bad-${Date.now()}`;
    const plain = `inline-plain-${Date.now()}`;
    const project = (fail: boolean) => async (tx: { query: (sql: string, p?: unknown[]) => Promise<unknown> }, events: { stream: string; version: number }[]) => {
      await tx.query('INSERT INTO inline_view (stream, n) VALUES ($1, $2)', [events[0].stream, events[events.length - 1].version]);
      if (fail) throw new Error('projection failed');
    };
    const [a, b, c] = await Promise.allSettled([
      store.append(ok, [ev(), ev()], { expectedVersion: 'no_stream', tenant: '2281', inline: project(false) }),
      store.append(bad, [ev()], { expectedVersion: 'no_stream', tenant: '2281', inline: project(true) }),
      store.append(plain, [ev()], { expectedVersion: 'no_stream', tenant: '2281' }),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b).toMatchObject({ status: 'rejected', reason: { message: 'projection failed' } });
    expect(c.status).toBe('fulfilled');
    expect((await pool.query('SELECT stream, n FROM inline_view ORDER BY stream')).rows).toEqual([{ stream: ok, n: 2 }]);
    expect(await store.streamVersion(ok)).toBe(2);
    expect(await store.streamVersion(bad)).toBe(0);
    expect(await store.streamVersion(plain)).toBe(1);
    // The failed append's stream is still free: a new attempt succeeds.
    await store.append(bad, [ev()], { expectedVersion: 'no_stream', tenant: '2281' });
  });

  it('answers an append with inline projections only once its commit is on disk', async () => {
    // When the caller hears back, the WAL up to the commit must be flushed: "accepted" means
    // durable. (A commit with synchronous_commit off, e.g. to release the append lock before the
    // disk write, fails this unless a flush barrier follows it: tried in session 6.)
    for (let i = 0; i < 5; i++) {
      let insertLsn = '';
      await store.append(`durable-${i}-${Date.now()}`, [ev()], {
        expectedVersion: 'no_stream',
        tenant: '2281',
        inline: async (tx) => {
          insertLsn = ((await tx.query('SELECT pg_current_wal_insert_lsn()::text AS lsn')) as { rows: { lsn: string }[] }).rows[0]!.lsn;
        },
      });
      const { rows: [flushed] } = await pool.query<{ ok: boolean }>('SELECT pg_current_wal_flush_lsn() >= $1::pg_lsn + 1 AS ok', [insertLsn]);
      expect(flushed!.ok).toBe(true);
    }
  });

  it('rejects an append to a stream of another tenant', async () => {
    const s = `tenant-${Date.now()}`;
    await store.append(s, [ev()], { expectedVersion: 'no_stream', tenant: '2281' });
    await expect(store.append(s, [ev()], { expectedVersion: 'any', tenant: '2262' })).rejects.toMatchObject({ name: 'InvalidAppend' });
  });

  it('reports a writer that holds the append lock as a stall, and lets appends through once it ends', async () => {
    const holder = await pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT pg_advisory_xact_lock($1)', [727_190_002]);
      const stream = `stalled-${Date.now()}`;
      let done = false;
      const pending = store.append(stream, [ev()], { expectedVersion: 'no_stream', tenant: '2281' }).then((r) => {
        done = true;
        return r;
      });
      await sleep(300);
      expect(done).toBe(false);
      expect(await store.stallSeconds()).toBeGreaterThanOrEqual(0.25);
      const metrics = new Metrics(false);
      const observed = await PostgresEventStore.create(pool, metrics);
      expect(await metrics.registry.getSingleMetricAsString('vagen_event_store_reader_stall_seconds')).toMatch(/vagen_event_store_reader_stall_seconds 0\.[3-9]|vagen_event_store_reader_stall_seconds [1-9]/);
      await observed.close();
      await holder.query('COMMIT');
      expect((await pending).nextExpectedVersion).toBe(1);
      expect(await store.stallSeconds()).toBe(0);
    } finally {
      holder.release();
    }
  });

  it('keeps subscriptions live after the LISTEN connection is lost', async () => {
    const head = await store.headPosition();
    const sub = store.subscribe({ fromPosition: head, tenants: ['2280'] });
    const it = sub[Symbol.asyncIterator]();
    const stream = `relisten-${Date.now()}`;
    await store.append(stream, [ev()], { expectedVersion: 'no_stream', tenant: '2280' });
    expect((await it.next()).value).toHaveLength(1);
    const killed = await pool.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'vagen-listener' AND datname = current_database()");
    expect(killed.rowCount).toBe(1);
    await sleep(100);
    const next = it.next();
    await store.append(stream, [ev()], { expectedVersion: 1, tenant: '2280' });
    const started = Date.now();
    expect((await next).value).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(3000);
    await sub.close();
  });

  it('keeps an import of long streams in chunks of up to 100 events, and event_log shows them one row an event, as readAll reads them', async () => {
    const head = await store.headPosition();
    const streams = [0, 1, 2].map((i) => `chunked-${i}-${Date.now()}`);
    await store.appendBulk(streams.map((stream, s) => ({ stream, tenant: '2263', expectedVersion: 'no_stream' as const, events: Array.from({ length: 150 }, (_, i) => ev('PrioritySet', { s, i })) })));
    const count = async (table: string) => (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE stream_id = ANY($1)`, [streams])).rows[0].n;
    expect(await count('event_chunks')).toBe(6); // 100 + 50 a stream
    expect(await count('events')).toBe(0);
    const read = [];
    for await (const batch of store.readAll({ fromPosition: head, tenants: ['2263'], batchSize: 64 })) read.push(...batch);
    expect(read).toHaveLength(450);
    const { rows } = await pool.query<{ position: string; version: number; id: string; stream_id: string; tenant: string; type: string; data: unknown }>(
      'SELECT position, version, id, stream_id, tenant, type, data FROM event_log WHERE stream_id = ANY($1) ORDER BY position',
      [streams],
    );
    expect(rows.map((x) => ({ position: Number(x.position), version: x.version, id: x.id, stream: x.stream_id, tenant: x.tenant, type: x.type, data: x.data }))).toEqual(
      read.map((e) => ({ position: e.position, version: e.version, id: e.id, stream: e.stream, tenant: e.tenant, type: e.type, data: e.data })),
    );
    expect(new Set(read.map((e) => e.id)).size).toBe(450);
  });

  it('imports in bulk with contiguous positions and wakes subscribers', async () => {
    const head = await store.headPosition();
    const sub = store.subscribe({ fromPosition: head, tenants: ['2262'] });
    const it = sub[Symbol.asyncIterator]();
    const first = it.next();
    const r = await store.appendBulk(
      Array.from({ length: 100 }, (_, i) => ({ stream: `bulk-${i}-${Date.now()}`, tenant: '2262', expectedVersion: 'no_stream' as const, events: [ev('CaseRegistered'), ev()] })),
    );
    expect(r).toEqual({ events: 200, firstPosition: expect.any(Number), lastPosition: r.firstPosition + 199 });
    const got = ((await first).value as unknown[]).length;
    expect(got).toBeGreaterThan(0);
    await sub.close();
  });
});
