import pg from 'pg';
import type { EventStore, SubscribeOptions } from '../../src/shared/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/postgres-event-store.js';
import { ProjectionEngine } from '../../src/shared/projections/projection-engine.js';
import { eventCountProjection } from './event-count.projection.js';
import { FAST, projectionKit, quiet, type Kit } from './projection-test-kit.js';

/**
 * Stopping the engine while a runner is between taking its lease and subscribing to the log.
 * Seen in CI under load as a teardown that never ended: the runner subscribed after stop() had
 * closed "its subscription" (there was none yet), then waited for events that never came.
 */
describe('Projection engine: stop', () => {
  let kit: Kit;
  beforeAll(async () => {
    kit = await projectionKit('proj-stop');
  });
  afterAll(() => kit.close());

  it('ends even when stop() comes just before a runner subscribes', async () => {
    const pool = new pg.Pool({ connectionString: kit.db.url, max: 6 });
    pool.on('error', () => undefined);
    const store = new PostgresEventStore(pool);
    let engine: ProjectionEngine | undefined;
    let stopping: Promise<void> | undefined;
    // The store as the runner sees it: its first subscribe() starts stopping that runner first.
    const racing = new Proxy(store, {
      get(target, prop) {
        if (prop === 'subscribe') {
          return (options: SubscribeOptions) => {
            stopping ??= engine!.runnerFor('proj_event_counts_v1')!.stop();
            return target.subscribe(options);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as EventStore;
    try {
      engine = new ProjectionEngine(pool, racing, { ...FAST, instanceName: 'stopper' }, undefined, quiet);
      await engine.register(eventCountProjection({ kind: 'async' }));
      await engine.start();
      const deadline = Date.now() + 15_000;
      while (!stopping && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      expect(stopping).toBeDefined();
      // A generous bound: a stop that works takes milliseconds; the bug never ends.
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([
        stopping!.then(() => 'stopped'),
        new Promise<string>((r) => (timer = setTimeout(() => r('still running after 10 s'), 10_000))),
      ]);
      clearTimeout(timer);
      expect(outcome).toBe('stopped');
      await engine.stop();
    } finally {
      await store.close();
      await pool.end();
    }
  });
});
