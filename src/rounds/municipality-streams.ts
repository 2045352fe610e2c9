import { Inject, Injectable } from '@nestjs/common';
import { streams } from '../shared/streams.js';
import { EVENT_STORE, StreamNotFound, type EventStore, type StoredEvent } from '../shared/event-store/event-store.port.js';
import { fold } from '../shared/domain/decider.js';
import { initialRoundsState, roundDecider, findRound, type RoundsState } from './round.decider.js';
import type { RoundEvent } from './round.events.js';
import { questionnaireDecider, type QuestionnairesState } from '../questionnaires/questionnaire.decider.js';
import type { QuestionnaireEvent } from '../questionnaires/questionnaire.events.js';
import { roundInfo } from '../cases/round-info.js';
import type { RoundInfo } from '../cases/case.decider.js';


/**
 * The municipality-wide streams (rounds, questionnaire versions) are small — a few events a
 * year — so commands and reads fold them straight from the store: always fresh, no projection.
 */
@Injectable()
export class MunicipalityStreams {
  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {}

  async readOrEmpty(stream: string, knownAt?: Date): Promise<StoredEvent[]> {
    try {
      return await this.store.readStream(stream, knownAt ? { knownAt } : {});
    } catch (e) {
      if (e instanceof StreamNotFound) return [];
      throw e;
    }
  }

  async rounds(municipality: string, knownAt?: Date): Promise<{ state: RoundsState; version: number; events: StoredEvent[] }> {
    const events = await this.readOrEmpty(streams.rounds(municipality), knownAt);
    const state = fold(roundDecider, events as unknown as RoundEvent[], initialRoundsState);
    return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.version, events };
  }

  async questionnaires(municipality: string): Promise<{ state: QuestionnairesState; version: number }> {
    const events = await this.readOrEmpty(streams.questionnaires(municipality));
    const state = fold(questionnaireDecider, events as unknown as QuestionnaireEvent[]);
    return { state, version: events.length === 0 ? 0 : events[events.length - 1]!.version };
  }

  /** What the case decider needs about a round; undefined when the municipality has no such round. */
  async roundInfo(municipality: string, roundId: string): Promise<RoundInfo | undefined> {
    const [{ state }, q] = await Promise.all([this.rounds(municipality), this.questionnaires(municipality)]);
    return roundInfo(findRound(state, roundId), q.state);
  }
}
