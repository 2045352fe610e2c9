import { startTestApp, type TestApp } from '../../../test/support/test-app.js';
import { poolOf } from '../database/database.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

describe('EventStoreModule in the running service', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ label: 'esmodule' });
  });
  afterAll(() => t?.close());

  it('provides the PostgreSQL store on the shared pool, counts appends in /metrics, and closes without ending the pool', async () => {
    const store = t.running.app.get<EventStore>(EVENT_STORE);
    expect(store).toBeInstanceOf(PostgresEventStore);
    // Other modules may append at start-up: count from here.
    const appended = async () => (await t.running.metrics.eventsAppended.get()).values[0]?.value ?? 0;
    const before = await appended();
    const r = await store.append('module-check-1', [{ type: 'CaseRegistered', data: {}, metadata: { actor: 'test' } }], { expectedVersion: 'no_stream', tenant: '2281' });
    const { rows } = await t.pool.query('SELECT stream_id, version FROM events WHERE position = $1', [r.lastPosition]);
    expect(rows).toEqual([{ stream_id: 'module-check-1', version: 1 }]);
    expect(await appended()).toBe(before + 1);
    expect(await t.running.metrics.registry.metrics()).toMatch(/vagen_event_store_reader_stall_seconds \d/);


    // Closing a store (with a live subscription and its LISTEN connection) leaves the shared pool
    // alone: it belongs to TypeORM. A second store on the same pool stands in for the app's own.
    const second = await PostgresEventStore.create(poolOf(t.running.dataSource));
    const sub = second.subscribe({ fromPosition: r.lastPosition - 1 });
    const first = await sub[Symbol.asyncIterator]().next();
    expect((first.value as { stream: string }[])[0].stream).toBe('module-check-1');
    await second.close();
    expect((await t.running.dataSource.query('SELECT 1 AS one'))[0].one).toBe(1);
    // Asked for after close, a subscription ends at once.
    expect(await second.subscribe()[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
  });
});
