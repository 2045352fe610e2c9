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


/** Open rounds remembered for recording assessments; beyond this many the memory starts afresh. */
const MAX_REMEMBERED_ROUNDS = 10_000;
const roundKey = (municipality: string, roundId: string) => `${municipality}\u0000${roundId}`;

/**
 * The municipality-wide streams (rounds, questionnaire versions) are small — a few events a
 * year — so commands and reads fold them straight from the store: always fresh, no projection.
 * One exception, for registration day's hot path: see `roundForAssessment`.
 */
@Injectable()
export class MunicipalityStreams {
  private readonly openRounds = new Map<string, RoundInfo>();

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

  /**
   * `roundInfo` for recording an assessment, remembered once seen open. What a round is (its
   * reference date, its questionnaire version, that version's questions) never changes after it
   * is opened; only its status does, open → closed, and an assessment's append checks that again
   * in its own transaction (the round_guard view, which also settles the race with a close). So a
   * remembered open round is as good as a fresh read, and saves the two reads of the streams on
   * every assessment of registration day. Not used for priorities: round_guard does not guard them.
   */
  async roundForAssessment(municipality: string, roundId: string): Promise<RoundInfo | undefined> {
    const key = roundKey(municipality, roundId);
    const remembered = this.openRounds.get(key);
    if (remembered) return remembered;
    const info = await this.roundInfo(municipality, roundId);
    if (info?.status === 'open') {
      if (this.openRounds.size >= MAX_REMEMBERED_ROUNDS) this.openRounds.clear();
      this.openRounds.set(key, info);
    }
    return info;
  }

  /** Forgets a remembered round (closed here, or found closed by an append). */
  forgetRound(municipality: string, roundId: string): void {
    this.openRounds.delete(roundKey(municipality, roundId));
  }

  /** What the case decider needs about a round; undefined when the municipality has no such round. */
  async roundInfo(municipality: string, roundId: string): Promise<RoundInfo | undefined> {
    const [{ state }, q] = await Promise.all([this.rounds(municipality), this.questionnaires(municipality)]);
    return roundInfo(findRound(state, roundId), q.state);
  }
}
