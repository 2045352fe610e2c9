import { Module, type OnModuleInit } from '@nestjs/common';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { ExportsController } from './exports/exports.http.js';
import { PanelExporter } from './exports/panel-export.js';
import { FlowsController } from './flows/flows.http.js';
import { ReportsController } from './reports/reports.http.js';
import { roundSnapshotsProjection } from './snapshot/round-snapshot.projection.js';
import { RoundInsightController } from './snapshot/snapshot.http.js';
import { SnapshotSource } from './snapshot/snapshot-source.js';

/**
 * Insight for process owners and evaluators (issue 7): round snapshots frozen at closing,
 * statistics, crosstabs, comparisons, flows, reports and the evaluator exports — all read from
 * the `round_snapshots` projection of the event log.
 */
@Module({
  controllers: [RoundInsightController, FlowsController, ReportsController, ExportsController],
  providers: [SnapshotSource, PanelExporter],
  exports: [SnapshotSource],
})
export class InsightModule implements OnModuleInit {
  constructor(private readonly projections: ProjectionEngine) {}

  async onModuleInit(): Promise<void> {
    await this.projections.register(roundSnapshotsProjection);
  }
}
