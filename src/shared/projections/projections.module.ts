import {
  Global,
  Module,
  type BeforeApplicationShutdown,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import type { Pool } from 'pg';
import type { ResolvedConfig } from '../../config/config.js';
import { APP_CONFIG, PG_POOL } from '../database/database.tokens.js';
import { EVENT_STORE, type EventStore } from '../event-store/event-store.port.js';
import { Metrics } from '../observability/metrics.js';
import { ReadinessChecks } from '../observability/readiness.js';
import type { Projection } from './projection.js';
import { ProjectionEngine } from './projection-engine.js';
import { ProjectionWaiter } from './projection.waiter.js';
import { ProjectionsAdminController } from './projections.admin.http.js';

/**
 * The projection engine for the whole app (global). Feature modules register their projections
 * (`ProjectionsModule.forFeature([...])`, or `engine.register(...)` in their `onModuleInit`);
 * runners start once every module is initialised and stop before the event store closes.
 */
@Global()
@Module({
  controllers: [ProjectionsAdminController],
  providers: [
    {
      provide: ProjectionEngine,
      inject: [PG_POOL, EVENT_STORE, Metrics, APP_CONFIG],
      useFactory: (pool: Pool, store: EventStore, metrics: Metrics, config: ResolvedConfig) =>
        new ProjectionEngine(pool, store, { minPositionTimeoutMs: config.minPositionTimeoutMs, lagReadyThreshold: config.projectionLagReadyThreshold }, metrics),
    },
    { provide: ProjectionWaiter, inject: [ProjectionEngine], useFactory: (engine: ProjectionEngine) => engine.waiter },
  ],
  exports: [ProjectionEngine, ProjectionWaiter],
})
export class ProjectionsModule implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  constructor(
    private readonly engine: ProjectionEngine,
    private readonly readiness: ReadinessChecks,
  ) {}

  /** A module that registers these projections with the engine when the app starts. */
  static forFeature(projections: Projection[]): DynamicModule {
    const token = Symbol(`projections:${projections.map((p) => p.name).join(',')}`);
    return {
      module: ProjectionFeatureModule,
      providers: [{ provide: token, inject: [ProjectionEngine], useFactory: async (engine: ProjectionEngine) => engine.register(...projections) }],
    };
  }

  onModuleInit(): void {
    this.readiness.add(this.engine.readinessCheck());
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.engine.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.engine.stop();
  }
}

@Module({})
class ProjectionFeatureModule {}
