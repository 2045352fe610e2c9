import type { EventStore, StoredEvent } from '../../src/shared/event-store/event-store.port.js';
import { LOCKS } from '../../src/shared/projections/projection-catalog.js';
import { appliedOnce, countsOf, eventCountProjection, readCounts, sorted } from './event-count.projection.js';
import { allEvents, event, eventually, projectionKit, type Kit } from './projection-test-kit.js';

async function appendMany(store: EventStore, n: number, prefix = 'case'): Promise<number> {
  let last = 0;
  for (let i = 0; i < n; i += 10) {
    const events = Array.from({ length: Math.min(10, n - i) }, (_, k) => event(['A', 'B', 'C', 'D'][(i + k) % 4]!, { i: i + k }));
    last = (await store.append(`${prefix}-${i % 7}`, events, { expectedVersion: 'any', tenant: '2281' })).lastPosition;
  }
  return last;
}

async function leaseHolderPid(kit: Kit): Promise<number | undefined> {
  const { rows } = await kit.pool.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1 AND objsubid = 2
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCKS.lease],
  );
  return rows[0]?.pid;
}

describe('Projection engine: crashes and poison events (real PostgreSQL)', () => {
  let kit: Kit;
  beforeEach(async () => {
    kit = await projectionKit('proj-fail');
  });
  afterEach(() => kit.close());

  it('loses nothing and doubles nothing when the runner dies mid-batch and another instance restarts it', async () => {
    const writer = kit.instance();
    const head = await appendMany(writer.store, 300);

    let inTheMiddle!: () => void;
    const reachedMiddle = new Promise<void>((r) => (inTheMiddle = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let armed = true;
    const a = kit.instance({ batchSize: 100 });
    await a.engine.register(
      eventCountProjection({
        midBatch: async () => {
          if (!armed) return;
          armed = false;
          inTheMiddle();
          await gate;
        },
      }),
    );
    await a.engine.start();
    await reachedMiddle;

    // Half a batch is written in the open transaction: nobody else can see it, the checkpoint is 0.
    const schema = (await kit.pool.query(`SELECT schema_name, position FROM projections WHERE name = 'event_counts'`)).rows[0];
    expect(Number(schema.position)).toBe(0);
    expect(Number((await kit.pool.query(`SELECT count(*) FROM ${schema.schema_name}.event_counts`)).rows[0].count)).toBe(0);

    // The instance dies: its connection goes away with the open transaction and the lease.
    const pid = await leaseHolderPid(kit);
    expect(pid).toBeDefined();
    await kit.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    const stopping = a.stop();
    release();
    await stopping;

    const b = kit.instance();
    await b.engine.register(eventCountProjection());
    await b.engine.start();
    await b.engine.waitFor('event_counts', head, 20_000);
    const log = await allEvents(b.store);
    expect(sorted(await b.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    const once = await b.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once).toEqual({ total: once.expected, distinct: once.expected, expected: once.expected });
    const row = (await kit.pool.query(`SELECT position, events_processed FROM projections WHERE name = 'event_counts'`)).rows[0];
    expect(Number(row.position)).toBe(head);
    expect(Number(row.events_processed)).toBe(300);
  });

  it('rolls back a batch whose handler throws after writing some rows, and goes on exactly', async () => {
    const writer = kit.instance();
    const head = await appendMany(writer.store, 250);
    let throwsLeft = 2;
    const a = kit.instance({ batchSize: 100 });
    await a.engine.register(
      eventCountProjection({
        midBatch: async (events) => {
          if (events.length > 1 && throwsLeft-- > 0) throw new Error('crash after half the rows');
        },
      }),
    );
    await a.engine.start();
    await a.engine.waitFor('event_counts', head, 20_000);
    const log = await allEvents(a.store);
    expect(sorted(await a.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    expect(throwsLeft).toBeLessThanOrEqual(0);
    await a.stop();

    // Restarted on another instance: nothing is applied again.
    const b = kit.instance();
    await b.engine.register(eventCountProjection());
    await b.engine.start();
    await b.engine.waitFor('event_counts', head, 20_000);
    expect(sorted(await b.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    expect(Number((await kit.pool.query(`SELECT events_processed FROM projections WHERE name = 'event_counts'`)).rows[0].events_processed)).toBe(250);
    const once = await b.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once).toEqual({ total: once.expected, distinct: once.expected, expected: once.expected });
  });

  it('stops only the projection with a poison event, records it, fails readiness, and resumes after a handler fix', async () => {
    let fixed = false;
    const poisoned = eventCountProjection({
      name: 'poisoned',
      check: (e: StoredEvent) => {
        if (e.data.poison === true && !fixed) throw new Error(`cannot handle ${e.type} with poison`);
      },
    });
    const a = kit.instance();
    await a.engine.register(poisoned, eventCountProjection({ name: 'healthy' }));
    await a.engine.start();
    await appendMany(a.store, 40);
    const bad = await a.store.append('case-bad', [event('B', { poison: true })], { expectedVersion: 'any', tenant: '2281' });
    const head = await appendMany(a.store, 40, 'later');

    // The healthy one goes on to the end.
    await a.engine.waitFor('healthy', head, 10_000);
    // The poisoned one stops right before the bad event, with the event's position recorded.
    const status = await eventually(async () => {
      const s = (await a.engine.status()).find((x) => x.name === 'poisoned');
      return s?.live?.status === 'failing' ? s : undefined;
    }, 10_000, 'poisoned to fail');
    expect(status.live!.position).toBe(bad.lastPosition - 1);
    expect(status.live!.lastError).toMatchObject({ position: bad.lastPosition, message: expect.stringContaining('cannot handle B with poison') });
    expect(status.live!.lagEvents).toBe(head - bad.lastPosition + 1);
    const ready = await a.engine.readinessCheck().run();
    expect(ready.ok).toBe(false);
    expect(ready.detail).toMatch(/poisoned: stopped at position \d+/);
    await expect(a.engine.waitFor('poisoned', head, 200)).rejects.toMatchObject({ slug: 'projection-lagging' });
    // It keeps retrying (with backoff) and counting the failures.
    await eventually(async () => ((await a.engine.status()).find((x) => x.name === 'poisoned')?.live?.lastError?.failures ?? 0) >= 2, 10_000, 'retries');

    fixed = true;
    await a.engine.waitFor('poisoned', head, 10_000);
    const after = (await a.engine.status()).find((x) => x.name === 'poisoned')!;
    expect(after.live).toMatchObject({ status: 'running', lastError: null, position: head });
    expect((await a.engine.readinessCheck().run()).ok).toBe(true);
    const log = await allEvents(a.store);
    expect(sorted(await a.engine.read('poisoned', readCounts))).toEqual(sorted(countsOf(log)));
    expect(sorted(await a.engine.read('healthy', readCounts))).toEqual(sorted(countsOf(log)));
    await a.stop();
  });

  it('resumes a poisoned projection once an upcaster repairs the event', async () => {
    const a = kit.instance();
    await a.engine.register(
      eventCountProjection({
        name: 'strict',
        check: (e) => {
          if (e.type === 'C' && typeof e.data.amount !== 'number') throw new Error(`C without amount at ${e.position}`);
        },
      }),
    );
    await a.engine.start();
    await a.store.append('case-1', [event('C', { amount: 1 }, 2)], { expectedVersion: 'any', tenant: '2281' });
    const old = await a.store.append('case-1', [event('C', { sum: 5 }, 1)], { expectedVersion: 'any', tenant: '2281' });
    const head = (await a.store.append('case-1', [event('A'), event('C', { amount: 2 }, 2)], { expectedVersion: 'any', tenant: '2281' })).lastPosition;
    await eventually(async () => (await a.engine.status())[0]?.live?.lastError?.position === old.lastPosition, 10_000, 'failure at the old event');

    a.store.registerUpcaster('C', 1, (data) => ({ amount: data.sum }));
    await a.engine.waitFor('strict', head, 10_000);
    expect(sorted(await a.engine.read('strict', readCounts))).toEqual([['case-1|A', 1], ['case-1|C', 3]]);
    await a.stop();
  });
});
