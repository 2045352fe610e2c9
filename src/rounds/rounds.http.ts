import { Body, Controller, Get, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../shared/auth/auth.decorators.js';
import type { Principal } from '../shared/auth/principal.js';
import { parseMinPosition, setCommandHeaders } from '../shared/http/conditional.js';
import { Problem } from '../shared/http/problem.js';
import type { CommandMeta } from '../cases/case.repository.js';
import { MunicipalityStreams } from './municipality-streams.js';
import { CloseRoundCommand, OpenRoundCommand, OpenRoundRequest, type RoundCommandOutcome } from './round.commands.js';
import { findRound } from './round.decider.js';
import { RoundProgressService, type RoundResponse } from './round-progress.js';

export class FreshnessQuery {
  @ApiPropertyOptional({ description: 'Wait until this global position is visible (from X-Event-Position).' })
  @IsOptional()
  @IsString()
  minPosition?: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Measurement rounds (mätomgångar): open, follow progress live, close (freezes the snapshot). */
@ApiTags('rounds')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/rounds')
export class RoundsController {
  constructor(
    private readonly commands: CommandBus,
    private readonly streams: MunicipalityStreams,
    private readonly progress: RoundProgressService,
  ) {}

  @Post()
  @Roles('process_owner', 'admin')
  @ApiOperation({ summary: 'Open a measurement round' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  @ApiResponse({ status: 201, description: 'The round with its progress; Location and X-Event-Position headers.' })
  @ApiResponse({ status: 409, description: 'The label is taken.' })
  async open(@Param('code') code: string, @Body() body: OpenRoundRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<RoundResponse> {
    const outcome = await this.commands.execute<OpenRoundCommand, RoundCommandOutcome>(new OpenRoundCommand(meta(code, user, req), body));
    setCommandHeaders(reply, outcome);
    void reply.header('Location', `/api/v1/municipalities/${code}/rounds/${outcome.roundId}`);
    return this.one(code, outcome.roundId);
  }

  @Get()
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({ summary: 'Every round with its progress { activeCases, assessed, prioritised, remaining }' })
  async list(@Param('code') code: string, @Query() q: FreshnessQuery): Promise<{ items: RoundResponse[]; nextCursor: null }> {
    const { state } = await this.streams.rounds(code);
    const rounds = Object.values(state.rounds).sort((a, b) => (a.referenceDate < b.referenceDate ? -1 : a.referenceDate > b.referenceDate ? 1 : a.label.localeCompare(b.label)));
    return { items: await this.progress.describe(code, rounds, parseMinPosition(q.minPosition)), nextCursor: null };
  }

  @Get(':id')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({ summary: 'One round with its progress' })
  async get(@Param('code') code: string, @Param('id') id: string, @Query() q: FreshnessQuery): Promise<RoundResponse> {
    return this.one(code, id, parseMinPosition(q.minPosition));
  }

  @Post(':id/close')
  @HttpCode(200)
  @Roles('process_owner', 'admin')
  @ApiOperation({ summary: 'Close the round: its snapshot is frozen as known now; later assessments answer 409' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async close(@Param('code') code: string, @Param('id') id: string, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<RoundResponse> {
    if (!UUID.test(id)) throw Problem.notFound(`Round ${id} not found.`);
    const outcome = await this.commands.execute<CloseRoundCommand, RoundCommandOutcome>(new CloseRoundCommand({ ...meta(code, user, req), roundId: id }));
    setCommandHeaders(reply, outcome);
    return this.one(code, id);
  }

  private async one(code: string, id: string, minPosition?: number): Promise<RoundResponse> {
    const round = UUID.test(id) ? findRound((await this.streams.rounds(code)).state, id) : undefined;
    if (!round) throw Problem.notFound(`Round ${id} not found.`);
    const [response] = await this.progress.describe(code, [round], minPosition);
    return response!;
  }
}

function meta(code: string, user: Principal, req: FastifyRequest): CommandMeta {
  return { municipality: code, actor: user.userId, correlationId: String(req.id) };
}
