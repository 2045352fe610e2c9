import { caseDecider, type CaseCommand, type CaseState } from '../cases/case.decider.js';
import type { CaseEvent } from '../cases/case.events.js';
import { roundInfo } from '../cases/round-info.js';
import { initialQuestionnairesState } from '../questionnaires/questionnaire.decider.js';
import { findRound, roundDecider, type RoundsState } from '../rounds/round.decider.js';
import type { RoundEvent } from '../rounds/round.events.js';
import { parsePersonalIdentityNumber } from '../shared/privacy/personal-identity-number.js';
import { streams } from '../shared/streams.js';
import type { TimelineStep } from './timeline.js';

export interface PlayerDeps {
  municipality: string;
  /** The person's pseudonym (PersonVault.pseudonym). */
  pseudonym(pin: string): string;
  /** The vault's envelope of a reason text for the person; the deciders only ever see ciphertext. */
  seal(pseudonym: string, text: string): string | Promise<string>;
  /** Ids the server would assign (case, round, intervention). */
  newId(): string;
}

export interface PlayedStep {
  stream: string;
  /** The stream's version before these events (0: a new stream). */
  fromVersion: number;
  events: (CaseEvent | RoundEvent)[];
  /** Set for RegisterCase: the new case's stream needs the person in the vault. */
  registered?: { pseudonym: string; pin: string };
}

interface CaseEntry {
  caseId: string;
  pseudonym: string;
  state: CaseState;
  version: number;
}

/**
 * Plays a timeline through the pure deciders, in memory: each step becomes the decider command
 * a handler would build (with `today` = the step's day, so nothing is dated after the day it was
 * sent), and the decided events are folded into the state. A step the rules refuse throws the
 * decider's DomainError.
 *
 * Two uses: the specs prove that every generated command is accepted, and the bulk simulator
 * gets exactly the events the real handlers would have written, for the store's bulk import.
 */
export class TimelinePlayer {
  private rounds: RoundsState = roundDecider.initialState;
  private roundsVersion = 0;
  private readonly roundIds = new Map<string, string>();
  private readonly cases = new Map<string, CaseEntry>();
  private readonly interventionIds = new Map<string, string>();
  /** The open case of each person (what the handler reads from the inline "open cases" view). */
  private readonly openCaseOfPerson = new Map<string, string>();

  constructor(private readonly deps: PlayerDeps) {}

  /** The decided state of a case by its timeline key (for specs and figures). */
  caseState(key: string): CaseState | undefined {
    return this.cases.get(key)?.state;
  }

  caseKeys(): IterableIterator<string> {
    return this.cases.keys();
  }

  async play(step: TimelineStep): Promise<PlayedStep> {
    const today = step.at;
    const actor = step.actor;
    const { municipality } = this.deps;
    switch (step.command) {
      case 'OpenRound':
      case 'CloseRound': {
        const roundId = step.command === 'OpenRound' ? this.deps.newId() : this.requireRoundId(step.round);
        const events = roundDecider.decide(
          step.command === 'OpenRound'
            ? { type: 'OpenRound', actor, today, roundId, ...step.body, availableQuestionnaireVersions: [1] }
            : { type: 'CloseRound', actor, today, roundId },
          this.rounds,
        );
        if (step.command === 'OpenRound') this.roundIds.set(step.round, roundId);
        for (const e of events) this.rounds = roundDecider.evolve(this.rounds, e);
        const fromVersion = this.roundsVersion;
        this.roundsVersion += events.length;
        return { stream: streams.rounds(municipality), fromVersion, events };
      }
      case 'RegisterCase': {
        if (this.cases.has(step.case)) throw new Error(`Timeline registers ${step.case} twice`);
        const parsed = parsePersonalIdentityNumber(step.body.personalIdentityNumber, today);
        if (!parsed.ok) throw new Error(`Timeline has a bad personnummer for ${step.case}: ${parsed.error}`);
        const pseudonym = this.deps.pseudonym(parsed.value.normalized);
        const caseId = this.deps.newId();
        const entry: CaseEntry = { caseId, pseudonym, state: caseDecider.initialState, version: 0 };
        const { personalIdentityNumber: _pin, ...background } = step.body;
        const played = this.decide(entry, {
          type: 'RegisterCase',
          actor,
          today,
          caseId,
          pseudonym,
          birthYear: parsed.value.birthYear,
          ...background,
          openCaseOfPerson: this.openCaseOfPerson.get(pseudonym) ?? null,
        });
        this.cases.set(step.case, entry);
        return { ...played, registered: { pseudonym, pin: parsed.value.normalized } };
      }
      default: {
        const entry = this.cases.get(step.case);
        if (!entry) throw new Error(`Timeline step ${step.command} for ${step.case} before its registration`);
        return this.decide(entry, await this.caseCommand(step, entry));
      }
    }
  }

  private async caseCommand(step: Exclude<TimelineStep, { command: 'OpenRound' | 'CloseRound' | 'RegisterCase' }>, entry: CaseEntry): Promise<CaseCommand> {
    const ctx = { actor: step.actor, today: step.at };
    const seal = async (text: string | undefined) => (text === undefined ? null : await this.deps.seal(entry.pseudonym, text));
    const round = (key: string) => {
      const roundId = this.requireRoundId(key);
      return { roundId, round: roundInfo(findRound(this.rounds, roundId), initialQuestionnairesState) };
    };
    switch (step.command) {
      case 'RecordAssessment':
        return { type: 'RecordAssessment', ...ctx, ...round(step.body.roundId), answers: step.body.answers, effectiveDate: step.body.effectiveDate };
      case 'CorrectAssessment':
        return { type: 'CorrectAssessment', ...ctx, ...round(step.round), answers: step.body.answers, reasonCiphertext: (await seal(step.body.reason))! };
      case 'SetPriority': {
        const r = step.body.roundId === undefined ? { roundId: null, round: undefined } : round(step.body.roundId);
        return { type: 'SetPriority', ...ctx, ...r, priority: step.body.priority, reasonCiphertext: await seal(step.body.reason), effectiveDate: step.body.effectiveDate };
      }
      case 'TransferCase':
        return { type: 'TransferCase', ...ctx, toUnit: step.body.toUnit, reasonCiphertext: await seal(step.body.reason), effectiveDate: step.body.effectiveDate };
      case 'StartIntervention': {
        if (this.interventionIds.has(step.intervention)) throw new Error(`Timeline starts ${step.intervention} twice`);
        const interventionId = this.deps.newId();
        this.interventionIds.set(step.intervention, interventionId);
        return { type: 'StartIntervention', ...ctx, interventionId, interventionType: step.body.type, provider: step.body.provider, startDate: step.body.startDate };
      }
      case 'EndIntervention': {
        const interventionId = this.interventionIds.get(step.intervention);
        if (!interventionId) throw new Error(`Timeline ends ${step.intervention}, which never started`);
        this.interventionIds.delete(step.intervention);
        return { type: 'EndIntervention', ...ctx, interventionId, endDate: step.body.endDate, outcome: step.body.outcome };
      }
      case 'RecordBenefitMonth':
        return { type: 'RecordBenefitMonth', ...ctx, month: step.month };
      case 'WithdrawBenefitMonth':
        return { type: 'WithdrawBenefitMonth', ...ctx, month: step.month };
      case 'CloseCase':
        return { type: 'CloseCase', ...ctx, reason: step.body.reason, effectiveDate: step.body.effectiveDate };
      case 'ReopenCase':
        return { type: 'ReopenCase', ...ctx, unit: step.body.unit, effectiveDate: step.body.effectiveDate, openCaseOfPerson: this.openCaseOfPerson.get(entry.pseudonym) ?? null };
    }
  }

  private decide(entry: CaseEntry, command: CaseCommand): PlayedStep {
    const events = caseDecider.decide(command, entry.state);
    const fromVersion = entry.version;
    for (const e of events) {
      entry.state = caseDecider.evolve(entry.state, e);
      if (e.type === 'CaseRegistered' || e.type === 'CaseReopened') this.openCaseOfPerson.set(entry.pseudonym, entry.caseId);
      if (e.type === 'CaseClosed') this.openCaseOfPerson.delete(entry.pseudonym);
    }
    entry.version += events.length;
    return { stream: streams.case(this.deps.municipality, entry.caseId), fromVersion, events };
  }

  private requireRoundId(key: string): string {
    const id = this.roundIds.get(key);
    if (!id) throw new Error(`Timeline uses round ${key} before opening it`);
    return id;
  }
}
