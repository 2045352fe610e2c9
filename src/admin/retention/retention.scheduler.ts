import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import type { Pool } from 'pg';
import type { ResolvedConfig } from '../../config/config.js';
import { APP_CONFIG, PG_POOL } from '../../shared/database/database.tokens.js';
import { RetentionService } from './retention.service.js';

/** pg advisory lock: one instance runs the scheduled retention at a time. */
const RETENTION_LOCK = 727_190_301;
export const SCHEDULED_RETENTION_ACTOR = 'system:retention';

/**
 * RETENTION_SCHEDULE_HOURS > 0: every so many hours, every municipality with cases is culled
 * (first run a minute after start). Several instances may run this timer; the advisory lock lets
 * one of them work and the others skip that round.
 */
@Injectable()
export class RetentionScheduler implements OnApplicationBootstrap, OnModuleDestroy {
  private timer: NodeJS.Timeout | undefined;
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly retention: RetentionService,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  onApplicationBootstrap(): void {
    const hours = this.config.retentionScheduleHours;
    if (hours <= 0) return;
    const tick = () => {
      void this.runOnce().catch((e: unknown) => this.logger.error(`scheduled retention failed: ${String(e)}`));
      this.timer = setTimeout(tick, hours * 3_600_000).unref();
    };
    this.timer = setTimeout(tick, 60_000).unref();
  }

  onModuleDestroy(): void {
    clearTimeout(this.timer);
  }

  /** One scheduled round over every municipality; false when another instance holds the lock. */
  async runOnce(today?: string): Promise<boolean> {
    const client = await this.pool.connect();
    try {
      const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [RETENTION_LOCK]);
      if (!rows[0]?.locked) return false;
      try {
        for (const municipality of await this.retention.municipalities()) {
          for (;;) {
            const report = await this.retention.run(municipality, { dryRun: false, actor: SCHEDULED_RETENTION_ACTOR, today });
            if (report.remainingPersons === 0) break;
          }
        }
        return true;
      } finally {
        await client.query('SELECT pg_advisory_unlock($1)', [RETENTION_LOCK]);
      }
    } finally {
      client.release();
    }
  }
}
