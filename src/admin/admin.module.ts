import { Module, type OnModuleInit } from '@nestjs/common';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { AccessLogController } from './access-log/access-log.http.js';
import { erasedCasesProjection } from './erasure/erased-cases.projection.js';
import { ErasureController } from './erasure/erasure.http.js';
import { PersonEraser } from './erasure/person-eraser.js';
import { RetentionController } from './retention/retention.http.js';
import { RetentionScheduler } from './retention/retention.scheduler.js';
import { RetentionService } from './retention/retention.service.js';

/**
 * Privacy administration (API.md "Administration", admins only): erasure by crypto-shredding,
 * retention culling (on request or on a schedule) and the access-log search.
 */
@Module({
  controllers: [ErasureController, RetentionController, AccessLogController],
  providers: [PersonEraser, RetentionService, RetentionScheduler],
  exports: [PersonEraser, RetentionService, RetentionScheduler],
})
export class AdminModule implements OnModuleInit {
  constructor(private readonly projections: ProjectionEngine) {}

  async onModuleInit(): Promise<void> {
    await this.projections.register(erasedCasesProjection);
  }
}
