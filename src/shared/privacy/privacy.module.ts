import { Global, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Pool } from 'pg';
import type { ResolvedConfig } from '../../config/config.js';
import { APP_CONFIG, PG_POOL } from '../database/database.tokens.js';
import { AccessLog } from './access-log.js';
import { PersonVault } from './vault.js';

const PURGE_EVERY_MS = 6 * 3600_000;

/** Runs the access-log retention purge in the background (not in tests: they call it directly). */
@Injectable()
class AccessLogPurger implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger = new Logger('AccessLog');

  constructor(
    private readonly log: AccessLog,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.nodeEnv === 'test') return;
    const run = () =>
      this.log.purgeExpired().then(
        (n) => n > 0 && this.logger.log(`purged ${n} access-log entries older than ${this.config.accessLogRetentionDays} days`),
        (e: unknown) => this.logger.error(`access-log purge failed: ${String(e)}`),
      );
    const tick = () => {
      void run();
      this.timer = setTimeout(tick, PURGE_EVERY_MS).unref();
    };
    this.timer = setTimeout(tick, 60_000).unref();
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
  }
}

/**
 * Personal-data protection for every feature: `PersonVault` (pseudonyms, encryption,
 * crypto-shredding) and `AccessLog` (every read of individual data).
 */
@Global()
@Module({
  providers: [
    {
      provide: PersonVault,
      inject: [APP_CONFIG, PG_POOL],
      useFactory: (config: ResolvedConfig, pool: Pool) => new PersonVault(pool, { masterKey: config.masterKey, pseudonymKey: config.pseudonymKey }),
    },
    {
      provide: AccessLog,
      inject: [APP_CONFIG, PG_POOL],
      useFactory: (config: ResolvedConfig, pool: Pool) => new AccessLog(pool, config.accessLogRetentionDays),
    },
    AccessLogPurger,
  ],
  exports: [PersonVault, AccessLog],
})
export class PrivacyModule {}
