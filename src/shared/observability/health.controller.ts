import { Controller, Get, Header, Inject } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Pool } from 'pg';
import { Public } from '../auth/auth.decorators.js';
import { PG_POOL } from '../database/database.tokens.js';
import { Problem } from '../http/problem.js';
import { clusterMetrics, inClusterWorker } from './cluster-metrics.js';
import { Metrics } from './metrics.js';
import { ReadinessChecks } from './readiness.js';

@ApiTags('operations')
@Controller()
@Public()
export class HealthController {
  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly metrics: Metrics,
    private readonly readiness: ReadinessChecks,
  ) {}

  @Get('health')
  @ApiOkResponse({ description: 'The process is alive.' })
  health(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('health/ready')
  @ApiOkResponse({ description: 'The database is reachable and projections are not lagging.' })
  async ready(): Promise<Record<string, unknown>> {
    const checks: Record<string, { status: 'ok' | 'fail'; detail?: string }> = {};
    try {
      await this.pool.query('SELECT 1');
      checks.database = { status: 'ok' };
    } catch (e) {
      checks.database = { status: 'fail', detail: 'database unreachable' };
    }
    for (const check of this.readiness.all()) {
      try {
        const r = await check.run();
        checks[check.name] = r.ok ? { status: 'ok', detail: r.detail } : { status: 'fail', detail: r.detail };
      } catch {
        checks[check.name] = { status: 'fail', detail: 'check failed' };
      }
    }
    const ok = Object.values(checks).every((c) => c.status === 'ok');
    if (!ok) throw new Problem(503, 'not-ready', 'The service is not ready.', { checks, headers: { 'Retry-After': '5' } });
    return { status: 'ok', checks };
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  async prometheus(): Promise<string> {
    // In a worker of WORKERS=n, the answer covers every worker (summed by the primary).
    return inClusterWorker() ? clusterMetrics() : this.metrics.registry.metrics();
  }
}
