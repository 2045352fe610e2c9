import type { Projection } from '../../src/shared/projections/projection.js';
import { LOCKS } from '../../src/shared/projections/projection-catalog.js';
import { appliedOnce, countsOf, eventCountProjection, readCounts, sorted } from './event-count.projection.js';
import { allEvents, eventually, projectionKit, writeConcurrently, type Instance, type Kit } from './projection-test-kit.js';

/** The same projection, noting which instance applied each batch and when. */
function watched(instance: string, log: { instance: string; start: number; end: number }[]): Projection {
  const p = eventCountProjection();
  return {
    ...p,
    async apply(tx, events) {
      const start = performance.now();
      await p.apply(tx, events);
      await new Promise((r) => setTimeout(r, 2)); // widen the window an overlap would need
      log.push({ instance, start, end: performance.now() });
    },
  };
}

async function leaseHolders(kit: Kit): Promise<{ pid: number; application_name: string }[]> {
  const { rows } = await kit.pool.query<{ pid: number; application_name: string }>(
    `SELECT l.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1 AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    [LOCKS.lease],
  );
  return rows;
}

describe('Projection engine: several instances (real PostgreSQL)', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await projectionKit('proj-instances');
  });
  afterAll(() => kit.close());

  it('runs each projection on exactly one instance at a time, and hands over when that instance dies', async () => {
    const applied: { instance: string; start: number; end: number }[] = [];
    const instances: Record<string, Instance> = { a: kit.instance({ batchSize: 20 }, 'a'), b: kit.instance({ batchSize: 20 }, 'b') };
    await instances.a!.engine.register(watched('a', applied));
    await instances.b!.engine.register(watched('b', applied));
    await Promise.all([instances.a!.engine.start(), instances.b!.engine.start()]);

    // Both instances write; both try to run the projection.
    let mostLeased = 0;
    const sampler = setInterval(() => {
      const leased = Object.values(instances).filter((i) => i.engine.runnerFor('proj_event_counts_v1')?.leased).length;
      mostLeased = Math.max(mostLeased, leased);
    }, 5);
    await Promise.all([writeConcurrently(instances.a!.store, 4, 30), writeConcurrently(instances.b!.store, 4, 30)]);
    let head = await instances.a!.store.headPosition();
    await instances.a!.engine.waitFor('event_counts', head, 20_000);

    const holders = await leaseHolders(kit);
    expect(holders).toHaveLength(1);
    const first = holders[0]!.application_name === 'vagen-projections:a' ? 'a' : 'b';
    const second = first === 'a' ? 'b' : 'a';
    expect(instances[first]!.engine.runnerFor('proj_event_counts_v1')?.leased).toBe(true);
    expect(instances[second]!.engine.runnerFor('proj_event_counts_v1')?.leased).toBe(false);
    expect(new Set(applied.map((x) => x.instance))).toEqual(new Set([first]));

    // The running instance dies: its connections are cut, then it is gone for good.
    await kit.pool.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1 AND datname = current_database()`, [`%${first}`]);
    await instances[first]!.stop();
    await eventually(async () => instances[second]!.engine.runnerFor('proj_event_counts_v1')?.leased, 10_000, 'takeover');
    await writeConcurrently(instances[second]!.store, 4, 30);
    head = await instances[second]!.store.headPosition();
    await instances[second]!.engine.waitFor('event_counts', head, 20_000);
    clearInterval(sampler);
    expect(mostLeased).toBe(1);

    expect(applied.some((x) => x.instance === second)).toBe(true);
    // Never two batches at once: the application windows of the instances do not overlap.
    const sortedWindows = [...applied].sort((x, y) => x.start - y.start);
    for (let i = 1; i < sortedWindows.length; i++) expect(sortedWindows[i]!.start).toBeGreaterThanOrEqual(sortedWindows[i - 1]!.end - 0.001);

    const log = await allEvents(instances[second]!.store);
    expect(sorted(await instances[second]!.engine.read('event_counts', readCounts))).toEqual(sorted(countsOf(log)));
    const once = await instances[second]!.engine.read('event_counts', (tx) => appliedOnce(tx, log));
    expect(once.total).toBe(once.expected);
    expect(once.distinct).toBe(once.expected);
  });
});
