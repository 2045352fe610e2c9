import type { SqlExecutor } from '../../src/shared/event-store/event-store.port.js';
import { appliedOnce, countsOf, eventCountProjection, readCounts, sorted } from './event-count.projection.js';
import { allEvents, event, eventually, projectionKit, type Instance, type Kit } from './projection-test-kit.js';

/**
 * The writer and reader loops still running. A test that fails before stopping its loops would
 * leave them spinning against the closed pool (each read failing at once and its error kept)
 * until the worker ran out of memory: afterEach stops them first.
 */
const openLoops = new Set<{ stop(): Promise<unknown> }>();
function track<T extends { stop(): Promise<unknown> }>(l: T): T {
  openLoops.add(l);
  const stop = l.stop.bind(l);
  l.stop = () => {
    openLoops.delete(l);
    return stop();
  };
  return l;
}

/** Writers that keep appending until stopped; returns how many events they wrote. */
function keepWriting(inst: Instance, opts: { writers?: number; inline?: boolean } = {}): { stop(): Promise<number> } {
  let running = true;
  let written = 0;
  const loops = Array.from({ length: opts.writers ?? 4 }, async (_, w) => {
    for (let i = 0; running; i++) {
      const events = [event(['A', 'B', 'C', 'D'][(w + i) % 4]!, { w, i }), event(['A', 'B', 'C'][i % 3]!, { w, i })];
      await inst.store.append(`case-${(w * 13 + i) % 17}`, events, {
        expectedVersion: 'any',
        tenant: '2281',
        inline: opts.inline ? inst.engine.inline() : undefined,
      });
      written += events.length;
      await new Promise((r) => setTimeout(r, 2));
    }
  });
  return track({
    async stop() {
      running = false;
      await Promise.all(loops);
      return written;
    },
  });
}

/** Readers that keep reading the live build until stopped; every failure is kept. */
function keepReading(inst: Instance, name: string): { stop(): Promise<{ reads: number; errors: unknown[]; schemas: Set<string> }> } {
  let running = true;
  let reads = 0;
  const errors: unknown[] = [];
  const schemas = new Set<string>();
  const loops = Array.from({ length: 3 }, async () => {
    while (running) {
      try {
        await inst.engine.read(name, async (tx: SqlExecutor) => {
          schemas.add(((await tx.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]!).s);
          return readCounts(tx);
        });
        reads++;
      } catch (e) {
        errors.push(e);
      }
    }
  });
  return track({
    async stop() {
      running = false;
      await Promise.all(loops);
      return { reads, errors, schemas };
    },
  });
}

async function liveSchemaInCatalog(kit: Kit, name: string): Promise<string> {
  return (await kit.pool.query(`SELECT schema_name FROM projections WHERE name = $1 AND state = 'live'`, [name])).rows[0]?.schema_name;
}

describe('Projection engine: rebuild while live, inline projections, time travel (real PostgreSQL)', () => {
  let kit: Kit;
  beforeEach(async () => {
    kit = await projectionKit('proj-rebuild');
  });
  afterEach(async () => {
    await Promise.allSettled([...openLoops].map((l) => l.stop()));
    await kit.close();
  });

  it('rebuilds beside the live build while writes go on, switches when caught up, and reads never fail', async () => {
    const a = kit.instance({ batchSize: 50 });
    await a.engine.register(eventCountProjection());
    await a.engine.start();
    const warmup = keepWriting(a);
    await eventually(async () => (await a.store.headPosition()) > 400, 20_000, 'some history');
    const readers = keepReading(a, 'event_counts');
    const oldSchema = await liveSchemaInCatalog(kit, 'event_counts');

    const build = await a.engine.rebuild('event_counts');
    expect(build).toMatchObject({ state: 'building', schema: 'proj_event_counts_v1_r1', position: 0 });
    await expect(a.engine.rebuild('event_counts')).rejects.toMatchObject({ slug: 'rebuild-in-progress' });
    await eventually(async () => (await liveSchemaInCatalog(kit, 'event_counts')) === build.schema, 20_000, 'switch');
    await new Promise((r) => setTimeout(r, 200)); // reads and writes go on after the switch
    const written = await warmup.stop();
    const { reads, errors, schemas } = await readers.stop();

    expect(errors).toEqual([]);
    expect(reads).toBeGreaterThan(10);
    expect(schemas).toEqual(new Set([oldSchema, build.schema]));
    const head = await a.store.headPosition();
    await a.engine.waitFor('event_counts', head, 20_000);
    const log = await allEvents(a.store);
    expect(log).toHaveLength(written);
    const rebuilt = await a.engine.read('event_counts', readCounts);
    expect(sorted(rebuilt)).toEqual(sorted(countsOf(log)));
    const once = await a.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once.total).toBe(once.expected);
    expect(once.distinct).toBe(once.expected);
    // A fresh build from scratch (time travel to the head) holds the very same rows.
    const fresh = await a.engine.withTimeTravel('event_counts', { position: head }, (tx) => readCounts(tx));
    expect(sorted(rebuilt)).toEqual(sorted(fresh));
    // The old build is retired, kept for a grace period for reads still in flight.
    expect((await kit.pool.query(`SELECT state FROM projections WHERE schema_name = $1`, [oldSchema])).rows[0].state).toBe('retired');
    await a.stop();
  });

  it('a version bump builds the new version beside the old one, shows progress, and takes over', async () => {
    const v1 = kit.instance({ batchSize: 50 });
    await v1.engine.register(eventCountProjection({ version: 1 }));
    await v1.engine.start();
    const writers = keepWriting(v1, { writers: 1 });
    await eventually(async () => (await v1.store.headPosition()) > 1000, 30_000, 'history');

    // A new instance with version 2 (slower, so the progress can be watched), the v1 instance still running.
    const v2 = kit.instance({ batchSize: 50 });
    await v2.engine.register(eventCountProjection({ version: 2, midBatch: () => new Promise((r) => setTimeout(r, 10)) }));
    await v2.engine.start();
    const progress = await eventually(async () => {
      const s = (await v2.engine.status())[0]!;
      return s.rebuild && s.rebuild.eventsProcessed > 0 && s.rebuild.eventsPerSecond > 0 ? s : undefined;
    }, 20_000, 'rebuild progress');
    expect(progress.live).toMatchObject({ version: 1, status: 'running' });
    expect(progress.rebuild).toMatchObject({ version: 2, schema: 'proj_event_counts_v2', state: 'building', status: 'running' });
    expect(progress.rebuild!.lagEvents).toBeGreaterThan(0);
    expect(progress.rebuild!.etaSeconds).toBeGreaterThan(0);

    await eventually(async () => (await liveSchemaInCatalog(kit, 'event_counts')) === 'proj_event_counts_v2', 30_000, 'v2 to go live');
    const written = await writers.stop();
    const head = await v1.store.headPosition();
    await v2.engine.waitFor('event_counts', head, 20_000);
    // The v1 instance follows the switch: it reads v2 now, and its own runner has stopped.
    await eventually(async () => (await v1.engine.liveSchema('event_counts')) === 'proj_event_counts_v2', 5000, 'v1 instance to see v2');
    await eventually(async () => !v1.engine.runnerFor('proj_event_counts_v1'), 5000, 'v1 runner to stop');
    const log = await allEvents(v1.store);
    expect(log).toHaveLength(written);
    expect(sorted(await v1.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    const once = await v2.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once.total).toBe(once.expected);
    expect(once.distinct).toBe(once.expected);
    await v2.stop();
    await v1.stop();
  });

  it('inline: visible in the same transaction as the append; a failing inline handler fails the append and writes nothing', async () => {
    const a = kit.instance();
    await a.engine.register(
      eventCountProjection({
        name: 'open_counts',
        kind: 'inline',
        check: (e) => {
          if (e.data.bad) throw new Error('rejected by the view');
        },
      }),
    );
    await a.engine.start();
    for (let i = 1; i <= 3; i++) {
      await a.store.append('case-x', [event('A')], { expectedVersion: 'any', tenant: '2281', inline: a.engine.inline() });
      // No waiting: the row was written in the append's transaction.
      expect((await a.engine.read('open_counts', readCounts)).get('case-x|A')).toBe(i);
    }
    await expect(a.store.append('case-x', [event('B', { bad: true })], { expectedVersion: 'any', tenant: '2281', inline: a.engine.inline() })).rejects.toThrow(/rejected by the view/);
    expect((await allEvents(a.store)).map((e) => e.type)).toEqual(['A', 'A', 'A']);
    expect((await a.engine.status())[0]!.live).toMatchObject({ status: 'inline', lagEvents: 0 });
    await a.stop();
  });

  it('inline: a rebuild under concurrent appends switches without losing or doubling an append', async () => {
    const a = kit.instance({ batchSize: 40 });
    await a.engine.register(eventCountProjection({ name: 'open_counts', kind: 'inline' }));
    await a.engine.start();
    const writers = keepWriting(a, { writers: 4, inline: true });
    await eventually(async () => (await a.store.headPosition()) > 600, 20_000, 'history');
    const readers = keepReading(a, 'open_counts');
    const build = await a.engine.rebuild('open_counts');
    await eventually(async () => (await liveSchemaInCatalog(kit, 'open_counts')) === build.schema, 20_000, 'switch');
    await new Promise((r) => setTimeout(r, 200));
    const written = await writers.stop();
    const { errors } = await readers.stop();
    expect(errors).toEqual([]);
    const log = await allEvents(a.store);
    expect(log).toHaveLength(written);
    expect(sorted(await a.engine.read('open_counts', readCounts))).toEqual(sorted(countsOf(log)));
    const once = await a.engine.read('open_counts', (tx) => appliedOnce(tx, log));
    expect(once.total).toBe(once.expected);
    expect(once.distinct).toBe(once.expected);
    // No runner is left for an inline projection once it is live.
    await eventually(async () => !a.engine.runnerFor(build.schema), 5000, 'builder to stop');
    await a.stop();
  });

  it('inline: an instance still remembering the build that another instance replaced writes the new build (its check fails the first try)', async () => {
    const b = kit.instance({}, 'rebuilder');
    await b.engine.register(eventCountProjection({ name: 'open_counts', kind: 'inline' }));
    await b.engine.start();
    // Never started, so it hears of no switch: what it remembers goes stale, and only the check
    // in the append's transaction can tell.
    const a = kit.instance({}, 'unaware');
    await a.engine.register(eventCountProjection({ name: 'open_counts', kind: 'inline' }));
    await a.store.append('case-s', [event('A')], { expectedVersion: 'any', tenant: '2281', inline: a.engine.inline() });
    const before = await liveSchemaInCatalog(kit, 'open_counts');
    const build = await b.engine.rebuild('open_counts');
    await eventually(async () => (await liveSchemaInCatalog(kit, 'open_counts')) === build.schema, 20_000, 'switch');
    expect(build.schema).not.toBe(before);
    const stale: string[] = [];
    await a.store.append('case-s', [event('A'), event('B')], {
      expectedVersion: 'any',
      tenant: '2281',
      inline: async (tx, events, attempt) => {
        stale.push(String(attempt));
        await a.engine.inline()(tx, events, attempt);
      },
    });
    // The first run sent the remembered (old) schema and was refused; the second asked afresh.
    expect(stale).toEqual(['1', '2']);
    const log = await allEvents(a.store);
    expect(sorted(await b.engine.read('open_counts', readCounts))).toEqual(sorted(countsOf(log)));
    // And the retired build did not get the second append.
    const old = await kit.pool.query<{ n: string }>(`SELECT count(*) AS n FROM information_schema.schemata WHERE schema_name = $1`, [before]);
    if (Number(old.rows[0]!.n) > 0) {
      const rows = await kit.pool.query<{ total: string }>(`SELECT coalesce(sum(count), 0) AS total FROM "${before}".event_counts`);
      expect(Number(rows.rows[0]!.total)).toBe(1);
    }
    await a.stop();
    await b.stop();
  });

  it('time travel: builds a projection as of a position or as known at an instant, beside the live one', async () => {
    const a = kit.instance();
    await a.engine.register(eventCountProjection());
    await a.engine.start();
    const first = await a.store.append('case-t', [event('A'), event('B'), event('D')], { expectedVersion: 'any', tenant: '2281' });
    await new Promise((r) => setTimeout(r, 20));
    const knownAt = new Date();
    await new Promise((r) => setTimeout(r, 20));
    const second = await a.store.append('case-t', [event('A'), event('C')], { expectedVersion: 'any', tenant: '2281' });
    await a.store.append('case-u', [event('A')], { expectedVersion: 'any', tenant: '2281' });
    const log = await allEvents(a.store);

    const asOfPosition = await a.engine.withTimeTravel('event_counts', { position: second.positions[0]! }, readCounts);
    expect(sorted(asOfPosition)).toEqual(sorted(countsOf(log.filter((e) => e.position <= second.positions[0]!))));
    const asKnown = await a.engine.buildAsOf('event_counts', { knownAt }, { schema: 'round_as_known' });
    expect(asKnown).toMatchObject({ schema: 'round_as_known', position: first.lastPosition, events: 3 });
    const rows = (await kit.pool.query('SELECT stream, type, count FROM round_as_known.event_counts ORDER BY 1, 2')).rows;
    expect(rows).toEqual([{ stream: 'case-t', type: 'A', count: '1' }, { stream: 'case-t', type: 'B', count: '1' }]);
    expect((await kit.pool.query('SELECT projection, position, known_at FROM round_as_known._time_travel')).rows[0]).toMatchObject({ projection: 'event_counts', position: String(first.lastPosition), known_at: knownAt });
    await expect(a.engine.buildAsOf('event_counts', { knownAt }, { schema: 'round_as_known' })).rejects.toThrow(/already exists/);
    await a.engine.dropTimeTravel('round_as_known');
    expect((await kit.pool.query(`SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tt\\_%' OR nspname = 'round_as_known'`)).rows[0].count).toBe('0');
    // The live build was not touched.
    await a.engine.waitFor('event_counts', await a.store.headPosition());
    expect(sorted(await a.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    await a.stop();
  });
});
