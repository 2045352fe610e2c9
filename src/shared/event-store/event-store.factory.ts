import type { Pool } from 'pg';
import type { AppConfig } from '../../config/config.js';
import type { Metrics } from '../observability/metrics.js';
import type { EventStore } from './event-store.port.js';
import { PostgresEventStore } from './postgres/postgres-event-store.js';

/**
 * The configured adapter: PostgreSQL on the shared pool (default), or KurrentDB when
 * EVENT_STORE=kurrentdb. The KurrentDB client is imported only then (it loads gRPC).
 */
export async function createEventStore(config: Pick<AppConfig, 'eventStore' | 'kurrentDbConnectionString'>, pool: Pool, metrics?: Metrics): Promise<EventStore> {
  if (config.eventStore === 'kurrentdb') {
    const { KurrentDbEventStore } = await import('./kurrentdb/kurrentdb-event-store.js');
    return KurrentDbEventStore.create(config.kurrentDbConnectionString!, { pool, metrics });
  }
  return PostgresEventStore.create(pool, metrics);
}
