import type { CommandContext, Decider } from '../shared/domain/decider.js';
import { DomainError, type FieldError, throwIfInvalid } from '../shared/domain/domain-error.js';
import { isCalendarDate } from '../shared/time/calendar.js';
import type { RoundEvent } from './round.events.js';

interface RoundBase {
  roundId: string;
  label: string;
  referenceDate: string;
  questionnaireVersion: number;
  openedOn: string;
}
export type Round = (RoundBase & { status: 'open' }) | (RoundBase & { status: 'closed'; closedOn: string });

/** All rounds of one municipality, by id. */
export interface RoundsState {
  rounds: Record<string, Round>;
}

export interface OpenRound extends CommandContext {
  type: 'OpenRound';
  roundId: string;
  label: string;
  referenceDate: string;
  questionnaireVersion: number;
  /** Versions the municipality has (1 and any it published); the handler reads them. */
  availableQuestionnaireVersions: readonly number[];
}

export interface CloseRound extends CommandContext {
  type: 'CloseRound';
  roundId: string;
}

export type RoundCommand = OpenRound | CloseRound;

export const initialRoundsState: RoundsState = { rounds: {} };

export function findRound(state: RoundsState, roundId: string): Round | undefined {
  return Object.hasOwn(state.rounds, roundId) ? state.rounds[roundId] : undefined;
}

/** Labels are compared trimmed and case-insensitively: `2026-h1` is the same round as `2026-H1`. */
export function sameLabel(a: string, b: string): boolean {
  return a.trim().toLocaleLowerCase('sv') === b.trim().toLocaleLowerCase('sv');
}

export const roundDecider: Decider<RoundCommand, RoundEvent, RoundsState> = {
  initialState: initialRoundsState,

  decide(command, state) {
    const metadata = { actor: command.actor, effectiveDate: command.today };
    switch (command.type) {
      case 'OpenRound': {
        const errors: FieldError[] = [];
        const label = typeof command.label === 'string' ? command.label.trim() : '';
        if (label.length === 0 || label.length > 100) errors.push({ path: 'label', message: 'must be a non-empty text of at most 100 characters' });
        if (!isCalendarDate(command.referenceDate)) errors.push({ path: 'referenceDate', message: 'must be a date YYYY-MM-DD' });
        if (!command.availableQuestionnaireVersions.includes(command.questionnaireVersion)) {
          errors.push({ path: 'questionnaireVersion', message: `must be one of the municipality's questionnaire versions (${command.availableQuestionnaireVersions.join(', ')})` });
        }
        throwIfInvalid(errors);
        if (findRound(state, command.roundId)) throw DomainError.conflict('round-exists', `Round ${command.roundId} already exists.`, { roundId: command.roundId });
        const taken = Object.values(state.rounds).find((r) => sameLabel(r.label, label));
        if (taken) throw DomainError.conflict('round-label-taken', `A round labelled "${taken.label}" already exists.`, { roundId: taken.roundId });
        return [
          {
            type: 'RoundOpened',
            schemaVersion: 1,
            data: { roundId: command.roundId, label, referenceDate: command.referenceDate, questionnaireVersion: command.questionnaireVersion },
            metadata,
          },
        ];
      }
      case 'CloseRound': {
        const round = findRound(state, command.roundId);
        if (!round) throw DomainError.notFound('round-not-found', `Round ${command.roundId} does not exist.`);
        if (round.status === 'closed') throw DomainError.conflict('round-already-closed', `Round "${round.label}" was closed on ${round.closedOn}.`);
        // The snapshot is the state on the reference date as known at closing; frozen before
        // that date it would freeze a forecast.
        if (command.today < round.referenceDate) {
          throw DomainError.conflict('round-reference-date-not-reached', `Round "${round.label}" can be closed on or after its reference date ${round.referenceDate}.`);
        }
        return [{ type: 'RoundClosed', schemaVersion: 1, data: { roundId: round.roundId }, metadata }];
      }
    }
  },

  evolve(state, event) {
    switch (event.type) {
      case 'RoundOpened': {
        const round: Round = { ...event.data, status: 'open', openedOn: event.metadata.effectiveDate };
        return { rounds: { ...state.rounds, [round.roundId]: round } };
      }
      case 'RoundClosed': {
        const round = findRound(state, event.data.roundId);
        if (!round) return state;
        return { rounds: { ...state.rounds, [round.roundId]: { ...round, status: 'closed', closedOn: event.metadata.effectiveDate } } };
      }
    }
  },
};
