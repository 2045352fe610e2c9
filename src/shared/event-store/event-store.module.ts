import { Global, Inject, Module, type OnApplicationShutdown } from '@nestjs/common';
import type { Pool } from 'pg';
import type { AppConfig } from '../../config/config.js';
import { APP_CONFIG, PG_POOL } from '../database/database.tokens.js';
import { Metrics } from '../observability/metrics.js';
import { createEventStore } from './event-store.factory.js';
import { EVENT_STORE, type EventStore } from './event-store.port.js';

/**
 * Provides EVENT_STORE everywhere. On shutdown the store finishes its queued appends and closes
 * its own connections (LISTEN, KurrentDB); the shared pg Pool belongs to TypeORM and is left alone.
 */
@Global()
@Module({
  providers: [
    {
      provide: EVENT_STORE,
      inject: [APP_CONFIG, PG_POOL, Metrics],
      useFactory: (config: AppConfig, pool: Pool, metrics: Metrics) => createEventStore(config, pool, metrics),
    },
  ],
  exports: [EVENT_STORE],
})
export class EventStoreModule implements OnApplicationShutdown {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async onApplicationShutdown(): Promise<void> {
    await this.store.close();
  }
}
