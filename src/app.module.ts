import { Module, type DynamicModule, type Type } from '@nestjs/common';
import { APP_FILTER, APP_GUARD, APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { CqrsModule } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { ResolvedConfig } from './config/config.js';
import { AuthGuard } from './shared/auth/auth.guard.js';
import { JwtVerifier } from './shared/auth/jwt.verifier.js';
import { poolOf } from './shared/database/database.js';
import { APP_CONFIG, PG_POOL } from './shared/database/database.tokens.js';
import { IdempotencyInterceptor } from './shared/http/idempotency/idempotency.interceptor.js';
import { IdempotencyReplays } from './shared/http/idempotency/idempotency.replays.js';
import { ProblemFilter } from './shared/http/problem.filter.js';
import { createValidationPipe } from './shared/http/validation.js';
import { HealthController } from './shared/observability/health.controller.js';
import { Metrics } from './shared/observability/metrics.js';
import { ReadinessChecks } from './shared/observability/readiness.js';
import { featureModules } from './features.js';

export interface AppModuleOptions {
  config: ResolvedConfig;
  dataSource: DataSource;
  metrics: Metrics;
  /** Extra modules, e.g. test-only routes. */
  extraModules?: Type[];
}

@Module({})
export class AppModule {
  static forRoot(opts: AppModuleOptions): DynamicModule {
    const infrastructure: DynamicModule = {
      module: InfrastructureModule,
      global: true,
      providers: [
        { provide: APP_CONFIG, useValue: opts.config },
        { provide: PG_POOL, useValue: poolOf(opts.dataSource) },
        { provide: Metrics, useValue: opts.metrics },
        { provide: ReadinessChecks, useValue: new ReadinessChecks() },
        { provide: JwtVerifier, useValue: new JwtVerifier(opts.config.auth) },
        { provide: IdempotencyReplays, useValue: new IdempotencyReplays() },
      ],
      exports: [APP_CONFIG, PG_POOL, Metrics, ReadinessChecks, JwtVerifier, IdempotencyReplays],
    };
    return {
      module: AppModule,
      imports: [
        infrastructure,
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ type: 'postgres' }),
          dataSourceFactory: async () => opts.dataSource,
        }),
        CqrsModule.forRoot(),
        ...featureModules,
        ...(opts.extraModules ?? []),
      ],
      controllers: [HealthController],
      providers: [
        { provide: APP_FILTER, useClass: ProblemFilter },
        { provide: APP_GUARD, useClass: AuthGuard },
        { provide: APP_PIPE, useFactory: createValidationPipe },
        { provide: APP_INTERCEPTOR, useClass: IdempotencyInterceptor },
      ],
    };
  }
}

@Module({})
class InfrastructureModule {}
