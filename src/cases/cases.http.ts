import { Body, Controller, Delete, Get, HttpCode, Param, Post, Put, Query, Req, Res } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiProperty, ApiPropertyOptional, ApiResponse, ApiTags } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../shared/auth/auth.decorators.js';
import type { Principal } from '../shared/auth/principal.js';
import { parseIfMatch, parseMinPosition, setCommandHeaders } from '../shared/http/conditional.js';
import { Problem } from '../shared/http/problem.js';
import { IsCalendarDate } from '../shared/http/validators.js';
import { isYearMonth } from '../shared/time/calendar.js';
import { UNIT_CODES } from '../units/units.js';
import { CLOSURE_REASONS, PRIORITIES } from './case.events.js';
import { CaseRepository, type CaseCommandOutcome, type CommandMeta } from './case.repository.js';
import { CaseResponder, type CaseResponse, type CommandReveal } from './case.response.js';
import { CaseListQuery, CaseListService } from './list-cases/list-cases.query.js';
import { RegisterCaseCommand, RegisterCaseRequest } from './register-case/register-case.command.js';
import { RecordAssessmentCommand, RecordAssessmentRequest } from './record-assessment/record-assessment.command.js';
import { CorrectAssessmentCommand, CorrectAssessmentRequest } from './correct-assessment/correct-assessment.command.js';
import { SetPriorityCommand, SetPriorityRequest } from './set-priority/set-priority.command.js';
import { TransferCaseCommand, TransferCaseRequest } from './transfer-case/transfer-case.command.js';
import { EndInterventionCommand, EndInterventionRequest, StartInterventionCommand, StartInterventionRequest } from './interventions/interventions.command.js';
import { RecordBenefitMonthCommand, WithdrawBenefitMonthCommand } from './benefit-months/benefit-months.command.js';
import { CloseCaseCommand, CloseCaseRequest } from './close-case/close-case.command.js';
import { ReopenCaseCommand, ReopenCaseRequest } from './reopen-case/reopen-case.command.js';
import { ClaimsIdempotencyInTransaction, idempotencyClaimOf } from '../shared/http/idempotency/idempotency.interceptor.js';

export class CaseReadQuery {
  @ApiPropertyOptional({ description: 'State in the world on this date (YYYY-MM-DD). Default: today.' })
  @IsOptional()
  @IsCalendarDate()
  validAt?: string;

  @ApiPropertyOptional({ description: 'Only what had been recorded by this instant (ISO 8601 with offset). Default: now.' })
  @IsOptional()
  @IsString()
  @MaxLength(40)
  knownAt?: string;

  @ApiPropertyOptional({ description: 'Wait until this global position is visible (from X-Event-Position).' })
  @IsOptional()
  @IsString()
  minPosition?: string;
}

export class CaseDoc {
  @ApiProperty() id: string;
  @ApiProperty({ example: '19850312-2387' }) personalIdentityNumber: string;
  @ApiProperty() birthYear: number;
  @ApiProperty() gender: string;
  @ApiProperty() bornAbroad: string;
  @ApiProperty({ oneOf: [{ type: 'integer' }, { type: 'string', enum: ['unknown'] }] }) childrenInHousehold: number | string;
  @ApiProperty() registeredOn: string;
  @ApiProperty({ enum: ['open', 'closed'] }) status: string;
  @ApiProperty({ enum: UNIT_CODES, nullable: true }) unit: string | null;
  @ApiProperty({ enum: PRIORITIES, nullable: true }) priority: string | null;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'string' } }) priorityByRound: Record<string, string>;
  @ApiPropertyOptional({ nullable: true, example: { reason: 'employment', effectiveDate: '2026-05-01', fromUnit: 'arbete-och-integration' }, description: `reason one of ${CLOSURE_REASONS.join(', ')}` })
  closure: unknown;
  @ApiProperty({ type: 'array', items: { type: 'object' } }) interventions: unknown[];
  @ApiProperty({ type: [String], example: ['2026-01', '2026-02'] }) benefitMonths: string[];
  @ApiProperty({ type: 'object', additionalProperties: { type: 'object' }, description: 'By round id: answers (with corrections applied), originalAnswers, corrections (with decrypted reason), assessedBy, effectiveDate, recordedAt.' })
  assessments: unknown;
  @ApiProperty({ description: 'The case stream\'s version (also the ETag).' }) version: number;
}

const IF_MATCH = { name: 'If-Match', required: false, description: 'The case version you saw (ETag); a stale one answers 412.' };
const IDEMPOTENCY = {
  name: 'Idempotency-Key',
  required: false,
  description:
    '1–200 characters; a repeat with the same body replays the first answer (Idempotency-Replayed: true), another body under the key is 422, a repeat while the first runs is 409. The key is recorded in the same transaction as the command\'s events: a refused command leaves it free. A repeat reads the case again at the version the command left it (the same body, logged as a read; 404 once the person is erased).',
};

/**
 * Caseworkers' endpoints for one case (API.md "Cases"). Thin: HTTP → command → HTTP; the rules
 * live in the decider, the orchestration in the handlers.
 */
@ApiTags('cases')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/cases')
@Roles('caseworker')
// Every POST here appends through CaseRepository, which takes the Idempotency-Key with its append.
@ClaimsIdempotencyInTransaction()
export class CasesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly cases: CaseRepository,
    private readonly responder: CaseResponder,
    private readonly list: CaseListService,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Register a case (ärende) for a person' })
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, type: CaseDoc, description: 'Location, ETag and X-Event-Position headers.' })
  @ApiResponse({ status: 409, description: 'The person already has an open case in the municipality; `caseId` names it.' })
  async register(@Param('code') code: string, @Body() body: RegisterCaseRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<CaseResponse> {
    const outcome = await this.commands.execute<RegisterCaseCommand, CaseCommandOutcome>(new RegisterCaseCommand(this.meta(code, user, req), body));
    void reply.header('Location', `/api/v1/municipalities/${code}/cases/${outcome.caseId}`);
    return this.answer(code, user, req, reply, outcome);
  }

  @Get()
  @ApiOperation({ summary: 'List cases (filters: unit, priority, status, roundId + assessed)' })
  async index(@Param('code') code: string, @Query() query: CaseListQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest) {
    return this.list.list(code, query, user, req);
  }

  @Get(':id')
  @ApiOperation({ summary: 'One case, as it was on validAt and as known at knownAt' })
  @ApiResponse({ status: 200, type: CaseDoc })
  async get(@Param('code') code: string, @Param('id') id: string, @Query() query: CaseReadQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<CaseResponse> {
    parseMinPosition(query.minPosition); // the stream is read directly: always at least that fresh
    const { events, revealed } = await this.responder.read(req, user, code, id, parseKnownAt(query.knownAt));
    const view = await this.responder.view(req, user, code, events, query.validAt, revealed);
    void reply.header('ETag', `"${events[events.length - 1]!.version}"`);
    return view;
  }

  @Get(':id/history')
  @ApiOperation({ summary: 'Every event of the case in order (effective and recorded dates, actor, data)' })
  async history(@Param('code') code: string, @Param('id') id: string, @Query() query: CaseReadQuery, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    parseMinPosition(query.minPosition);
    if (query.validAt) throw Problem.badRequest('history takes knownAt, not validAt', [{ path: 'validAt', message: 'not supported on history' }]);
    const { events, revealed } = await this.responder.read(req, user, code, id, parseKnownAt(query.knownAt));
    void reply.header('ETag', `"${events[events.length - 1]!.version}"`);
    return { items: await this.responder.history(req, user, code, id, events, revealed) };
  }

  @Post(':id/assessments')
  @ApiOperation({ summary: 'Record the round\'s assessment (every question answered; "unknown" allowed)' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, type: CaseDoc })
  async assess(@Param('code') code: string, @Param('id') id: string, @Body() body: RecordAssessmentRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<RecordAssessmentCommand, CaseCommandOutcome>(new RecordAssessmentCommand({ ...this.meta(code, user, req), caseId: id }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/assessments/:roundId/corrections')
  @ApiOperation({ summary: 'Correct some answers of an assessment; the original is kept, with reason and author' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, type: CaseDoc })
  async correct(@Param('code') code: string, @Param('id') id: string, @Param('roundId') roundId: string, @Body() body: CorrectAssessmentRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<CorrectAssessmentCommand, CaseCommandOutcome>(new CorrectAssessmentCommand({ ...this.meta(code, user, req), caseId: id, roundId }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/prioritisations')
  @ApiOperation({ summary: 'Set the priority (high/medium/low), usually for a round' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, type: CaseDoc })
  async prioritise(@Param('code') code: string, @Param('id') id: string, @Body() body: SetPriorityRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<SetPriorityCommand, CaseCommandOutcome>(new SetPriorityCommand({ ...this.meta(code, user, req), caseId: id }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/transfers')
  @ApiOperation({ summary: 'Transfer the case to another unit (same unit or closed case: 409)' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, type: CaseDoc })
  async transfer(@Param('code') code: string, @Param('id') id: string, @Body() body: TransferCaseRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<TransferCaseCommand, CaseCommandOutcome>(new TransferCaseCommand({ ...this.meta(code, user, req), caseId: id }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/interventions')
  @ApiOperation({ summary: 'Start an intervention (insats); the answer carries its interventionId' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 201, description: 'The case, plus `interventionId`.' })
  async startIntervention(@Param('code') code: string, @Param('id') id: string, @Body() body: StartInterventionRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<StartInterventionCommand, CaseCommandOutcome & { interventionId: string }>(new StartInterventionCommand({ ...this.meta(code, user, req, false), caseId: id }, body));
    return { interventionId: outcome.interventionId, ...(await this.answer(code, user, req, reply, outcome)) };
  }

  @Post(':id/interventions/:interventionId/end')
  @HttpCode(200)
  @ApiOperation({ summary: 'End an intervention (once, not before it started)' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 200, type: CaseDoc })
  async endIntervention(@Param('code') code: string, @Param('id') id: string, @Param('interventionId') interventionId: string, @Body() body: EndInterventionRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<EndInterventionCommand, CaseCommandOutcome>(new EndInterventionCommand({ ...this.meta(code, user, req), caseId: id, interventionId }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Put(':id/benefit-months/:month')
  @ApiOperation({ summary: 'Record a benefit month (idempotent: twice is once)' })
  @ApiHeader(IF_MATCH)
  @ApiResponse({ status: 200, type: CaseDoc })
  async recordMonth(@Param('code') code: string, @Param('id') id: string, @Param('month') month: string, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<RecordBenefitMonthCommand, CaseCommandOutcome>(new RecordBenefitMonthCommand({ ...this.meta(code, user, req), caseId: id, month: checkMonth(month) }));
    return this.answer(code, user, req, reply, outcome);
  }

  @Delete(':id/benefit-months/:month')
  @ApiOperation({ summary: 'Withdraw a benefit month recorded by mistake (a correction, recorded as an event)' })
  @ApiHeader(IF_MATCH)
  @ApiResponse({ status: 200, type: CaseDoc })
  async withdrawMonth(@Param('code') code: string, @Param('id') id: string, @Param('month') month: string, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<WithdrawBenefitMonthCommand, CaseCommandOutcome>(new WithdrawBenefitMonthCommand({ ...this.meta(code, user, req), caseId: id, month: checkMonth(month) }));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/close')
  @HttpCode(200)
  @ApiOperation({ summary: 'Close the case with a reason' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 200, type: CaseDoc })
  async close(@Param('code') code: string, @Param('id') id: string, @Body() body: CloseCaseRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<CloseCaseCommand, CaseCommandOutcome>(new CloseCaseCommand({ ...this.meta(code, user, req), caseId: id }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  @Post(':id/reopen')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reopen a closed case into a unit' })
  @ApiHeader(IF_MATCH)
  @ApiHeader(IDEMPOTENCY)
  @ApiResponse({ status: 200, type: CaseDoc })
  async reopen(@Param('code') code: string, @Param('id') id: string, @Body() body: ReopenCaseRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply) {
    const outcome = await this.commands.execute<ReopenCaseCommand, CaseCommandOutcome>(new ReopenCaseCommand({ ...this.meta(code, user, req), caseId: id }, body));
    return this.answer(code, user, req, reply, outcome);
  }

  /** `answersWithCase`: the answer is the case alone, so a repeat can be answered from the case (CommandMeta). */
  private meta(code: string, user: Principal, req: FastifyRequest, answersWithCase = true): CommandMeta {
    // The answer's read of the person travels with the command's append (CaseResponder.commandReveal).
    const reveal = this.responder.commandReveal(req, user, code);
    reveals.set(req, reveal);
    return { municipality: code, actor: user.userId, ifMatch: parseIfMatch(req.headers['if-match']), correlationId: String(req.id), idempotency: idempotencyClaimOf(req), reveal, answersWithCase };
  }

  private async answer(code: string, user: Principal, req: FastifyRequest, reply: FastifyReply, outcome: CaseCommandOutcome): Promise<CaseResponse> {
    setCommandHeaders(reply, outcome);
    return this.responder.view(req, user, code, outcome.events, undefined, reveals.get(req));
  }
}

/** Each command request's CommandReveal, from `meta` to `answer`. */
const reveals = new WeakMap<FastifyRequest, CommandReveal>();

function checkMonth(month: string): string {
  if (!isYearMonth(month)) throw Problem.badRequest('The month must be written YYYY-MM.', [{ path: 'month', message: 'must be a month written YYYY-MM' }]);
  return month;
}

export function parseKnownAt(value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const ok = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/.test(value) && !Number.isNaN(Date.parse(value));
  if (!ok) throw Problem.badRequest('knownAt must be an ISO 8601 timestamp with offset.', [{ path: 'knownAt', message: 'must be an ISO 8601 timestamp with offset, e.g. 2026-06-30T12:00:00+02:00' }]);
  return new Date(value);
}

