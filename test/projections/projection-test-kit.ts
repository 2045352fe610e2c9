import pg from 'pg';
import type { EventStore, NewEvent, StoredEvent } from '../../src/shared/event-store/event-store.port.js';
import { PostgresEventStore } from '../../src/shared/event-store/postgres/postgres-event-store.js';
import { ProjectionEngine, type ProjectionEngineOptions } from '../../src/shared/projections/projection-engine.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';

/** Fast timings so takeovers, retries and switches happen within a test's patience. */
export const FAST: Partial<ProjectionEngineOptions> = {
  batchSize: 100,
  leaseRetryMs: 50,
  reconcileMs: 200,
  backoffBaseMs: 50,
  backoffMaxMs: 400,
  retiredGraceMs: 60_000,
  minPositionTimeoutMs: 20_000,
};

export const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** One simulated app instance: its own pool, its own store, its own engine. */
export interface Instance {
  pool: pg.Pool;
  store: EventStore;
  engine: ProjectionEngine;
  stop(): Promise<void>;
}

export interface Kit {
  db: TestDatabase;
  /** A pool for assertions. */
  pool: pg.Pool;
  instance(options?: Partial<ProjectionEngineOptions>, name?: string): Instance;
  close(): Promise<void>;
}

export async function projectionKit(label: string): Promise<Kit> {
  const db = await createTestDatabase(label);
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pool.on('error', () => undefined);
  const instances: Instance[] = [];
  return {
    db,
    pool,
    instance(options = {}, name = `i${instances.length}`) {
      const ipool = new pg.Pool({ connectionString: db.url, max: 12, application_name: `vagen-test-${name}` });
      // An idle client killed by the server (a test playing a crash) must not crash the test run.
      ipool.on('error', () => undefined);
      const store = new PostgresEventStore(ipool);
      const engine = new ProjectionEngine(ipool, store, { ...FAST, instanceName: name, ...options }, undefined, quiet);
      let stopped = false;
      const inst: Instance & { stage: string } = {
        pool: ipool,
        store,
        engine,
        stage: 'running',
        async stop() {
          if (stopped) return;
          stopped = true;
          try {
            inst.stage = 'engine.stop';
            await engine.stop();
            inst.stage = 'store.close';
            await store.close();
          } finally {
            inst.stage = 'pool.end';
            await ipool.end();
            inst.stage = 'stopped';
          }
        },
      };
      instances.push(inst);
      return inst;
    },
    async close() {
      for (const i of instances) {
        const stopping = i.stop().catch((e: unknown) => console.warn('instance did not stop cleanly', e));
        // Seen once in CI under full load: an instance that did not finish stopping. Say where it
        // hung instead of failing the suite's teardown on the hook timeout; dropping the
        // database (WITH FORCE) then ends its connections.
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([stopping.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), 20_000)))]);
        clearTimeout(timer);
        if (late) console.warn(`projection test kit: an instance did not stop within 20 s (stuck in ${(i as Instance & { stage: string }).stage})`);
      }
      await db.drop();
      await pool.end();
    },
  };
}

export function event(type: string, data: Record<string, unknown> = {}, schemaVersion?: number): NewEvent {
  return { type, data, schemaVersion, metadata: { actor: 'test' } };
}

/** `writers` concurrent writers, each doing `appends` appends of 1–3 events to random streams. */
export async function writeConcurrently(store: EventStore, writers: number, appends: number, types = ['A', 'B', 'C', 'D']): Promise<number> {
  let written = 0;
  await Promise.all(
    Array.from({ length: writers }, async (_, w) => {
      for (let i = 0; i < appends; i++) {
        const n = 1 + ((w + i) % 3);
        const events = Array.from({ length: n }, (_, k) => event(types[(w * 7 + i * 3 + k) % types.length]!, { w, i, k }));
        await store.append(`case-${(w * 31 + i) % 24}`, events, { expectedVersion: 'any', tenant: '2281' });
        written += n;
      }
    }),
  );
  return written;
}

export async function allEvents(store: EventStore): Promise<StoredEvent[]> {
  const out: StoredEvent[] = [];
  for await (const batch of store.readAll({ batchSize: 5000 })) out.push(...batch);
  return out;
}

export async function eventually<T>(fn: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
