import { Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { Roles } from '../auth/auth.decorators.js';
import { Problem } from '../http/problem.js';
import { ProjectionEngine, type BuildStatus, type ProjectionStatus } from './projection-engine.js';

export class ProjectionErrorDto {
  @ApiProperty({ description: 'What the handler threw.' }) message: string;
  @ApiProperty({ description: 'Global position of the event it failed on; the build stops right before it.', type: Number, nullable: true }) position: number | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) at: string | null;
  @ApiProperty({ description: 'Failures in a row; retries back off exponentially.' }) failures: number;
}

export class ProjectionRebuildDto {
  @ApiProperty() version: number;
  @ApiProperty({ description: 'The schema the new build is written to, beside the live one.' }) schema: string;
  @ApiProperty({ enum: ['running', 'failing', 'stopped'], description: '`stopped`: no instance holds its lease right now.' }) status: string;
  @ApiProperty({ description: 'Global position the build has processed.' }) position: number;
  @ApiProperty({ description: 'Events processed so far.' }) eventsDone: number;
  @ApiProperty({ description: 'Events still to process (positions up to the head; an upper bound).' }) eventsRemaining: number;
  @ApiProperty() eventsPerSecond: number;
  @ApiProperty({ type: Number, nullable: true, description: 'Estimated seconds until it has caught up and takes over.' }) etaSeconds: number | null;
  @ApiProperty({ type: String, format: 'date-time' }) startedAt: string;
  @ApiProperty({ type: ProjectionErrorDto, nullable: true }) lastError: ProjectionErrorDto | null;
}

export class ProjectionDto {
  @ApiProperty({ example: 'case_list' }) name: string;
  @ApiProperty({ enum: ['inline', 'async'], description: '`inline`: written in the append transaction, never lags.' }) kind: string;
  @ApiProperty({ description: 'Version of the live build (the registered version while none is live yet).' }) version: number;
  @ApiProperty({
    enum: ['running', 'failing', 'stopped', 'inline', 'building'],
    description: '`failing`: stopped at an event whose handler throws (see lastError), retrying; `stopped`: no instance runs it; `building`: no live build yet.',
  })
  status: string;
  @ApiProperty({ description: 'Global position processed by the live build.' }) position: number;
  @ApiProperty({ description: 'Events behind the head of the log.' }) lag: number;
  @ApiProperty({ description: 'Age in seconds of the oldest event not yet processed (0 when caught up).' }) lagSeconds: number;
  @ApiProperty() eventsPerSecond: number;
  @ApiProperty({ type: ProjectionErrorDto, nullable: true }) lastError: ProjectionErrorDto | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'Schema of the live build.' }) schema: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) liveSince: string | null;
  @ApiProperty({ type: ProjectionRebuildDto, nullable: true, description: 'The build in progress beside the live one, if any.' }) rebuild: ProjectionRebuildDto | null;
}

export class ProjectionListDto {
  @ApiProperty({ description: 'Highest position in the event log.' }) headPosition: number;
  @ApiProperty({ type: [ProjectionDto] }) items: ProjectionDto[];
}

export class RebuildAcceptedDto {
  @ApiProperty() name: string;
  @ApiProperty() version: number;
  @ApiProperty() schema: string;
  @ApiProperty({ enum: ['building'] }) status: string;
}

function errorDto(s: BuildStatus): ProjectionErrorDto | null {
  return s.lastError && { message: s.lastError.message, position: s.lastError.position, at: s.lastError.at?.toISOString() ?? null, failures: s.lastError.failures };
}

export function toProjectionDto(p: ProjectionStatus): ProjectionDto {
  const live = p.live;
  const rb = p.rebuild;
  return {
    name: p.name,
    kind: p.kind,
    version: live?.version ?? p.registeredVersion,
    status: live?.status ?? 'building',
    position: live?.position ?? 0,
    lag: live?.lagEvents ?? p.headPosition,
    lagSeconds: Math.round((live?.lagSeconds ?? 0) * 1000) / 1000,
    eventsPerSecond: live?.eventsPerSecond ?? 0,
    lastError: live ? errorDto(live) : null,
    schema: live?.schema ?? null,
    liveSince: live?.liveSince?.toISOString() ?? null,
    rebuild: rb && {
      version: rb.version,
      schema: rb.schema,
      status: rb.status,
      position: rb.position,
      eventsDone: rb.eventsProcessed,
      eventsRemaining: rb.lagEvents,
      eventsPerSecond: rb.eventsPerSecond,
      etaSeconds: rb.etaSeconds,
      startedAt: rb.createdAt.toISOString(),
      lastError: errorDto(rb),
    },
  };
}

@ApiTags('administration')
@ApiBearerAuth()
@Controller('api/v1/admin/projections')
@Roles('admin')
export class ProjectionsAdminController {
  constructor(private readonly engine: ProjectionEngine) {}

  @Get()
  @ApiOperation({ summary: 'Every projection: status, checkpoint, lag, errors and rebuild progress (admin).' })
  @ApiOkResponse({ type: ProjectionListDto })
  async list(): Promise<ProjectionListDto> {
    const all = await this.engine.refreshMetrics();
    return { headPosition: all[0]?.headPosition ?? 0, items: all.map(toProjectionDto) };
  }

  @Post(':name/rebuild')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Rebuild a projection beside its live build (admin).',
    description:
      'Answers at once; the new build fills its own tables from the log while reads go on being served by the live one, and takes over atomically when it has caught up. ' +
      'Progress is shown under `rebuild` in GET /admin/projections. 409 when a rebuild is already running.',
  })
  @ApiParam({ name: 'name', example: 'case_list' })
  @ApiAcceptedResponse({ type: RebuildAcceptedDto })
  async rebuild(@Param('name') name: string): Promise<RebuildAcceptedDto> {
    if (!this.engine.projection(name)) throw Problem.notFound(`No projection named "${name}".`);
    const build = await this.engine.rebuild(name);
    return { name: build.name, version: build.version, schema: build.schema, status: 'building' };
  }
}
