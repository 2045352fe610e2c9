import { Inject } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { IsInt, IsString, Max, MaxLength, Min, MinLength } from 'class-validator';
import { randomUUID } from 'node:crypto';
import { EVENT_STORE, WrongExpectedVersion, type EventStore } from '../shared/event-store/event-store.port.js';
import { IsCalendarDate } from '../shared/http/validators.js';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { streams } from '../shared/streams.js';
import { stockholmDate } from '../shared/time/calendar.js';
import type { CommandMeta } from '../cases/case.repository.js';
import { MunicipalityStreams } from './municipality-streams.js';
import { roundDecider, type RoundCommand } from './round.decider.js';

export class OpenRoundRequest {
  @ApiProperty({ example: '2026-H1', description: 'Unique per municipality (case-insensitive).' })
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  label: string;

  @ApiProperty({ example: '2026-03-15', description: 'The date whose state the snapshot shows.' })
  @IsCalendarDate()
  referenceDate: string;

  @ApiProperty({ example: 1 })
  @IsInt()
  @Min(1)
  @Max(10_000)
  questionnaireVersion: number;
}

export class OpenRoundCommand {
  constructor(
    readonly meta: CommandMeta,
    readonly input: OpenRoundRequest,
  ) {}
}

export class CloseRoundCommand {
  constructor(readonly meta: CommandMeta & { roundId: string }) {}
}

export interface RoundCommandOutcome {
  roundId: string;
  position: number;
}

/** Shared by open and close: decide on the municipality's rounds stream, append, retry on a race. */
async function runRoundCommand(
  store: EventStore,
  rounds: MunicipalityStreams,
  projections: ProjectionEngine,
  meta: CommandMeta,
  build: (availableVersions: number[]) => RoundCommand,
): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    const [{ state, version }, q] = await Promise.all([rounds.rounds(meta.municipality), rounds.questionnaires(meta.municipality)]);
    const events = roundDecider.decide(build(q.state.versions.map((v) => v.version)), state);
    try {
      const result = await store.append(
        streams.rounds(meta.municipality),
        events.map((e) => ({ type: e.type, schemaVersion: e.schemaVersion, data: e.data as unknown as Record<string, unknown>, metadata: { ...e.metadata, correlationId: meta.correlationId } })),
        { expectedVersion: version === 0 ? 'no_stream' : version, tenant: meta.municipality, inline: projections.inline() },
      );
      return result.lastPosition;
    } catch (e) {
      if (!(e instanceof WrongExpectedVersion) || attempt >= 8) throw e;
    }
  }
}

@CommandHandler(OpenRoundCommand)
export class OpenRoundHandler implements ICommandHandler<OpenRoundCommand, RoundCommandOutcome> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly rounds: MunicipalityStreams,
    private readonly projections: ProjectionEngine,
  ) {}

  async execute({ meta, input }: OpenRoundCommand): Promise<RoundCommandOutcome> {
    const roundId = randomUUID();
    const position = await runRoundCommand(this.store, this.rounds, this.projections, meta, (versions) => ({
      type: 'OpenRound',
      actor: meta.actor,
      today: stockholmDate(),
      roundId,
      label: input.label,
      referenceDate: input.referenceDate,
      questionnaireVersion: input.questionnaireVersion,
      availableQuestionnaireVersions: versions,
    }));
    return { roundId, position };
  }
}

@CommandHandler(CloseRoundCommand)
export class CloseRoundHandler implements ICommandHandler<CloseRoundCommand, RoundCommandOutcome> {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly rounds: MunicipalityStreams,
    private readonly projections: ProjectionEngine,
  ) {}

  async execute({ meta }: CloseRoundCommand): Promise<RoundCommandOutcome> {
    const position = await runRoundCommand(this.store, this.rounds, this.projections, meta, () => ({
      type: 'CloseRound',
      actor: meta.actor,
      today: stockholmDate(),
      roundId: meta.roundId,
    }));
    this.rounds.forgetRound(meta.municipality, meta.roundId);
    return { roundId: meta.roundId, position };
  }
}
