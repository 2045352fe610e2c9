import { Body, Controller, HttpCode, Param, Post, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsBoolean } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../../shared/auth/auth.decorators.js';
import type { Principal } from '../../shared/auth/principal.js';
import { setCommandHeaders } from '../../shared/http/conditional.js';
import { RetentionService, MAX_PERSONS_PER_RUN, type RetentionReport } from './retention.service.js';

export class RetentionRequest {
  @ApiProperty({ description: 'true: only list what would go; false: cull it.' })
  @IsBoolean()
  dryRun: boolean;
}

@ApiTags('admin')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/admin/retention')
@Roles('admin')
export class RetentionController {
  constructor(private readonly retention: RetentionService) {}

  @Post()
  @HttpCode(200)
  @ApiOperation({
    summary: 'Retention culling (gallring): erase people whose every case closed more than RETENTION_YEARS ago',
    description:
      'By the closure\'s effective date; people with an open case are kept whole. With RETENTION_KEEP_RESEARCH_SAMPLE=true people born on the 5th, 15th or 25th are kept (counted in keptForResearch). ' +
      `Each person is erased exactly as by POST …/admin/erasures (basis "retention"). A real run erases at most ${MAX_PERSONS_PER_RUN} people per call; repeat while remainingPersons > 0. ` +
      'The answer lists case ids and closure dates, never personnummer.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiResponse({ status: 200, description: '{ dryRun, cutoff, retentionYears, keepResearchSample, items: [{ caseId, closedOn }], persons, keptForResearch: { persons, cases }, remainingPersons, position }' })
  async run(@Param('code') code: string, @Body() body: RetentionRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<RetentionReport> {
    const report = await this.retention.run(code, {
      dryRun: body.dryRun,
      actor: user.userId,
      correlationId: String(req.id),
      audit: { roles: [...user.roles], endpoint: `${req.method} ${req.url}`, requestId: String(req.id) },
    });
    if (report.position !== null) setCommandHeaders(reply, { position: report.position });
    return report;
  }
}
