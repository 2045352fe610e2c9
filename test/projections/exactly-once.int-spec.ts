import { searchPathSql } from '../../src/shared/projections/projection-schema.js';
import { appliedOnce, countsOf, eventCountProjection, readCounts, sorted } from './event-count.projection.js';
import { allEvents, eventually, projectionKit, writeConcurrently, type Kit } from './projection-test-kit.js';

describe('Projection engine: exactly once (real PostgreSQL)', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await projectionKit('proj-once');
  });
  afterAll(() => kit.close());

  it('counts every event once while 16 writers append and the async runner runs', async () => {
    const a = kit.instance({ batchSize: 50 });
    await a.engine.register(eventCountProjection());
    await a.engine.start();
    const written = await writeConcurrently(a.store, 16, 40);
    const head = await a.store.headPosition();
    await a.engine.waitFor('event_counts', head, 30_000);

    const log = await allEvents(a.store);
    expect(log).toHaveLength(written);
    const model = await a.engine.read('event_counts', readCounts);
    expect(sorted(model)).toEqual(sorted(countsOf(log)));
    const once = await a.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once).toEqual({ total: once.expected, distinct: once.expected, expected: once.expected });
    // Unhandled types (D) are not counted, but the checkpoint moved past them.
    expect([...model.keys()].some((k) => k.endsWith('|D'))).toBe(false);
    const { rows } = await kit.pool.query(`SELECT position, events_processed FROM projections WHERE name = 'event_counts' AND state = 'live'`);
    expect(Number(rows[0].position)).toBe(head);
    expect(Number(rows[0].events_processed)).toBe(written);
    await a.stop();
  });

  it('leaves the read model unchanged when the same batch is applied twice', async () => {
    const p = eventCountProjection();
    const log = await allEvents((kit.instance()).store);
    const client = await kit.pool.connect();
    try {
      await client.query('CREATE SCHEMA idem_once; CREATE SCHEMA idem_twice');
      for (const [schema, times] of [['idem_once', 1], ['idem_twice', 2]] as const) {
        await client.query(`BEGIN; ${searchPathSql(schema)}`);
        await p.setup(client);
        const batch = log.filter((e) => p.handles.includes(e.type));
        for (let i = 0; i < times; i++) await p.apply(client, batch);
        // And half of it once more: overlapping redelivery.
        if (times === 2) await p.apply(client, batch.slice(batch.length / 2));
        await client.query('COMMIT');
      }
      const once = await client.query('SELECT stream, type, count, last_position FROM idem_once.event_counts ORDER BY 1, 2');
      const twice = await client.query('SELECT stream, type, count, last_position FROM idem_twice.event_counts ORDER BY 1, 2');
      expect(once.rows.length).toBeGreaterThan(0);
      expect(twice.rows).toEqual(once.rows);
    } finally {
      client.release();
    }
  });

  it('a command result can be read at once with minPosition (write then read is never stale)', async () => {
    const a = kit.instance();
    await a.engine.register(eventCountProjection());
    await a.engine.start();
    for (let i = 0; i < 5; i++) {
      const r = await a.store.append('case-fresh', [{ type: 'A', data: { i }, metadata: { actor: 't' } }], { expectedVersion: 'any', tenant: '2281' });
      const counts = await a.engine.read('event_counts', readCounts, r.lastPosition);
      expect(counts.get('case-fresh|A')).toBe(i + 1);
    }
    await a.stop();
  });

  it('answers 503 with Retry-After when the projection does not reach the position in time', async () => {
    const a = kit.instance();
    await a.engine.register(eventCountProjection());
    await a.engine.start();
    const head = await a.store.headPosition();
    const started = Date.now();
    const err = await a.engine.waitFor('event_counts', head + 1000, 300).catch((e: unknown) => e);
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(err).toMatchObject({ slug: 'projection-lagging', extra: { headers: { 'Retry-After': '1' } } });
    expect((err as { getStatus(): number }).getStatus()).toBe(503);
    await eventually(async () => (await a.engine.status())[0]?.live?.status === 'running', 5000, 'runner');
    await a.stop();
  });
});
