import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../../../../test/support/test-database.js';
import { Metrics } from '../../observability/metrics.js';
import { WrongExpectedVersion, type AppendResult, type StoredEvent } from '../event-store.port.js';
import { APPEND_LOCK, PostgresEventStore } from './postgres-event-store.js';

/** The batched append path (see pump and commitBatch in postgres-event-store.ts). */
describe('PostgreSQL batched appends', () => {
  let db: TestDatabase;
  const pools: pg.Pool[] = [];
  const stores: PostgresEventStore[] = [];
  const ev = (n = 0) => ({ type: 'PrioritySet', data: { n }, metadata: { actor: 'test' } });
  const run = Date.now().toString(36);

  /** What the store's own connections did, in order (statement results, answers). */
  type Step = { what: 'append'; streams: number } | { what: 'answered'; stream: string };

  /**
   * A store on a pool of its own whose connections log the batch statement as its results
   * arrive. `maxInFlight` 2: two batches at once, as with two service instances.
   */
  function spiedStore(options: { max?: number; maxInFlight?: number } = {}) {
    const pool = new pg.Pool({ connectionString: db.url, max: options.max ?? 10 });
    pool.on('error', () => undefined);
    pools.push(pool);
    const steps: Step[] = [];
    const wrapped = new WeakSet<object>();
    const connect = pool.connect.bind(pool) as () => Promise<pg.PoolClient>;
    const wrap = (client: pg.PoolClient) => {
      if (wrapped.has(client)) return client;
      wrapped.add(client);
      const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
      (client as unknown as { query: unknown }).query = async (...args: unknown[]) => {
        const text = typeof args[0] === 'string' ? args[0] : (args[0] as { text?: string }).text ?? '';
        const result = await query(...args);
        if (text.includes('event_store_append(')) steps.push({ what: 'append', streams: ((args[0] as { values: unknown[][] }).values[0]).length });
        return result;
      };
      return client;
    };
    // pool.query asks for its connection with a callback: that goes to the original connect.
    const original = connect as unknown as (cb?: unknown) => unknown;
    (pool as unknown as { connect: unknown }).connect = (cb?: unknown) => (cb ? original(cb) : connect().then(wrap));
    const store = new PostgresEventStore(pool, new Metrics(false), { maxInFlight: options.maxInFlight });
    stores.push(store);
    const append = async (stream: string, expectedVersion: number | 'no_stream', n = 0): Promise<AppendResult> => {
      const r = await store.append(stream, [ev(n)], { expectedVersion, tenant: '2281' });
      steps.push({ what: 'answered', stream });
      return r;
    };
    return { pool, store, steps, append };
  }

  /** Holds the append lock until `release` is called, so that appends queue into one batch. */
  async function holdLock(pool: pg.Pool): Promise<() => Promise<void>> {
    const holder = await pool.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT pg_advisory_xact_lock($1)', [APPEND_LOCK]);
    return async () => {
      await holder.query('COMMIT');
      holder.release();
    };
  }
  const until = async (check: () => Promise<boolean>) => {
    for (let i = 0; !(await check()); i++) {
      if (i === 500) throw new Error('condition not reached in 5 s');
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  /** Waits until `n` backends are blocked on the append lock. */
  const waiters = (pool: pg.Pool, n: number) =>
    until(async () => {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = $1 AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
        [APPEND_LOCK],
      );
      return rows[0].n >= n;
    });

  /**
   * Two appends sent one after the other (appends of the same tick would share a batch), each
   * a batch of its own waiting on the held lock: both in-flight places are taken.
   */
  async function occupyBothPlaces(store: PostgresEventStore, pool: pg.Pool, prefix: string): Promise<Promise<AppendResult>[]> {
    const a = store.append(`${prefix}-${run}-a`, [ev()], { expectedVersion: 'no_stream', tenant: '2281' });
    await waiters(pool, 1);
    const b = store.append(`${prefix}-${run}-b`, [ev()], { expectedVersion: 'no_stream', tenant: '2281' });
    await waiters(pool, 2);
    return [a, b];
  }

  beforeAll(async () => {
    db = await createTestDatabase('batchflush');
  });
  afterAll(async () => {
    for (const s of stores) await s.close();
    for (const p of pools) await p.end();
    await db.drop();
  });

  it('commits 16 concurrent writers in shared batches with gap-free stream versions, all readable', async () => {
    const { pool, store, steps } = spiedStore();
    const head = await store.headPosition();
    const writers = 16;
    const each = 10;
    const streams = Array.from({ length: writers }, (_, w) => `w16-${run}-${w}`);
    const results = await Promise.all(
      streams.map(async (s) => {
        let version = 0;
        const out: AppendResult[] = [];
        // An extra async layer between the answer and the next append, as in a command handler.
        const command = async (i: number) => store.append(s, [ev(i)], { expectedVersion: version === 0 ? 'no_stream' : version, tenant: '2281' });
        for (let i = 0; i < each; i++) {
          const r = await command(i);
          version = r.nextExpectedVersion;
          out.push(r);
        }
        return out;
      }),
    );
    for (const [w, s] of streams.entries()) {
      expect(results[w].map((r) => r.nextExpectedVersion)).toEqual(Array.from({ length: each }, (_, i) => i + 1));
      const events = await store.readStream(s);
      expect(events.map((e) => e.version)).toEqual(Array.from({ length: each }, (_, i) => i + 1));
      expect(events.map((e) => e.data.n)).toEqual(Array.from({ length: each }, (_, i) => i));
      expect(events.map((e) => e.position)).toEqual(results[w].map((r) => r.lastPosition));
    }
    const all: StoredEvent[] = [];
    for await (const batch of store.readAll({ fromPosition: head })) all.push(...batch);
    expect(all).toHaveLength(writers * each);
    expect(all.every((e, i) => i === 0 || e.position > all[i - 1].position)).toBe(true);
    // Answered together, the writers come back together: every batch holds all sixteen (none
    // goes out with the first one alone), one transaction each.
    expect(steps.filter((x) => x.what === 'append').map((x) => (x as { streams: number }).streams)).toEqual(new Array(each).fill(writers));
    const { rows } = await pool.query<{ n: number }>('SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE stream_id = ANY($1)', [streams]);
    expect(rows[0].n).toBe(each);
  });

  it('fails only the conflicting append of a batch; its neighbours are stored', async () => {
    const { pool, store, steps } = spiedStore({ maxInFlight: 2 });
    const contested = `conflict-${run}`;
    await store.append(contested, [ev()], { expectedVersion: 'no_stream', tenant: '2281' });
    const release = await holdLock(pool);
    // Two batches of one take the two in-flight places and wait on the lock; the rest queue.
    const first = await occupyBothPlaces(store, pool, 'lead');
    const others = Array.from({ length: 10 }, (_, i) => `neighbour-${run}-${i}`);
    const batch = Promise.allSettled([
      ...others.slice(0, 5).map((s) => store.append(s, [ev()], { expectedVersion: 'no_stream', tenant: '2281' })),
      store.append(contested, [ev()], { expectedVersion: 0, tenant: '2281' }),
      ...others.slice(5).map((s) => store.append(s, [ev()], { expectedVersion: 'no_stream', tenant: '2281' })),
    ]);
    await release();
    await Promise.all(first);
    const results = await batch;
    expect(results[5]).toMatchObject({ status: 'rejected', reason: { name: 'WrongExpectedVersion', actual: 1 } });
    expect((results[5] as PromiseRejectedResult).reason).toBeInstanceOf(WrongExpectedVersion);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    for (const s of others) expect(await store.streamVersion(s)).toBe(1);
    expect(await store.streamVersion(contested)).toBe(1);
    // The eleven went out as one call of the append function, and no retry happened.
    expect(steps.filter((s) => s.what === 'append' && s.streams === 11)).toHaveLength(1);
    const { rows } = await pool.query<{ n: number }>('SELECT count(DISTINCT xmin::text)::int AS n FROM events WHERE stream_id = ANY($1)', [others]);
    expect(rows[0].n).toBe(1);
  });
});
