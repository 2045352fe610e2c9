import { Body, Controller, Get, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { CommandBus, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { ApiBearerAuth, ApiOperation, ApiProperty, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ArrayMaxSize, IsArray } from 'class-validator';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { CurrentUser, Roles } from '../shared/auth/auth.decorators.js';
import type { Principal } from '../shared/auth/principal.js';
import { EVENT_STORE, WrongExpectedVersion, type EventStore } from '../shared/event-store/event-store.port.js';
import { setCommandHeaders } from '../shared/http/conditional.js';
import { Problem } from '../shared/http/problem.js';
import { streams } from '../shared/streams.js';
import { stockholmDate } from '../shared/time/calendar.js';
import type { CommandMeta } from '../cases/case.repository.js';
import { MunicipalityStreams } from '../rounds/municipality-streams.js';
import { currentQuestionnaire, questionnaireDecider, questionnaireVersion } from './questionnaire.decider.js';
import type { Questionnaire } from './questionnaire.js';

export class PublishQuestionnaireRequest {
  @ApiProperty({
    description: 'The questions of the new version: { key (camelCase), label (sv), type: single|multi, options: [{ code, label }] }; every question must include the option `unknown` ("Vet ej").',
    example: [{ key: 'housing', label: 'Boende', type: 'single', options: [{ code: 'own', label: 'Eget' }, { code: 'unknown', label: 'Vet ej' }] }],
  })
  @IsArray()
  @ArrayMaxSize(200)
  questions: unknown[];
}

export class PublishQuestionnaireCommand {
  constructor(
    readonly meta: CommandMeta,
    readonly input: PublishQuestionnaireRequest,
  ) {}
}

@CommandHandler(PublishQuestionnaireCommand)
export class PublishQuestionnaireHandler implements ICommandHandler<PublishQuestionnaireCommand, { version: number; position: number }> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly municipality: MunicipalityStreams,
  ) {}

  async execute({ meta, input }: PublishQuestionnaireCommand): Promise<{ version: number; position: number }> {
    for (let attempt = 1; ; attempt++) {
      const { state, version } = await this.municipality.questionnaires(meta.municipality);
      const [event] = questionnaireDecider.decide({ type: 'PublishQuestionnaire', actor: meta.actor, today: stockholmDate(), questions: input.questions }, state);
      try {
        const r = await this.store.append(
          streams.questionnaires(meta.municipality),
          [{ type: event!.type, schemaVersion: event!.schemaVersion, data: event!.data as unknown as Record<string, unknown>, metadata: { ...event!.metadata, correlationId: meta.correlationId } }],
          { expectedVersion: version === 0 ? 'no_stream' : version, tenant: meta.municipality },
        );
        return { version: event!.data.version, position: r.lastPosition };
      } catch (e) {
        if (!(e instanceof WrongExpectedVersion) || attempt >= 8) throw e;
      }
    }
  }
}

/** Versioned questionnaires; version 1 (API.md) is every municipality's default. */
@ApiTags('questionnaires')
@ApiBearerAuth()
@Controller('api/v1/municipalities/:code/questionnaires')
export class QuestionnairesController {
  constructor(
    private readonly commands: CommandBus,
    private readonly municipality: MunicipalityStreams,
  ) {}

  @Get('current')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({ summary: 'The newest questionnaire version of the municipality' })
  async current(@Param('code') code: string): Promise<Questionnaire> {
    return currentQuestionnaire((await this.municipality.questionnaires(code)).state);
  }

  @Get(':version')
  @Roles('caseworker', 'process_owner', 'evaluator', 'admin')
  @ApiOperation({ summary: 'One questionnaire version' })
  async version(@Param('code') code: string, @Param('version') version: string): Promise<Questionnaire> {
    const q = /^\d{1,6}$/.test(version) ? questionnaireVersion((await this.municipality.questionnaires(code)).state, Number(version)) : undefined;
    if (!q) throw Problem.notFound(`Questionnaire version ${version} not found.`);
    return q;
  }

  @Post()
  @Roles('process_owner', 'admin')
  @ApiOperation({ summary: 'Publish a new questionnaire version (old rounds keep theirs)' })
  @ApiResponse({ status: 201, description: 'The new version; Location and X-Event-Position headers.' })
  async publish(@Param('code') code: string, @Body() body: PublishQuestionnaireRequest, @CurrentUser() user: Principal, @Req() req: FastifyRequest, @Res({ passthrough: true }) reply: FastifyReply): Promise<Questionnaire> {
    const r = await this.commands.execute<PublishQuestionnaireCommand, { version: number; position: number }>(
      new PublishQuestionnaireCommand({ municipality: code, actor: user.userId, correlationId: String(req.id) }, body),
    );
    setCommandHeaders(reply, { position: r.position });
    void reply.header('Location', `/api/v1/municipalities/${code}/questionnaires/${r.version}`);
    return questionnaireVersion((await this.municipality.questionnaires(code)).state, r.version)!;
  }
}
