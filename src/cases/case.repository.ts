import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { fold } from '../shared/domain/decider.js';
import { DomainError } from '../shared/domain/domain-error.js';
import { EVENT_STORE, StreamNotFound, WrongExpectedVersion, type AppendResult, type EventStore, type NewEvent, type SqlExecutor, type StoredEvent } from '../shared/event-store/event-store.port.js';
import { preconditionFailed } from '../shared/http/conditional.js';
import { IdempotencyStore, type TransactionalClaim } from '../shared/http/idempotency/idempotency.store.js';
import { sendWithNext } from '../shared/database/coalescing-executor.js';
import { refusalOf } from '../shared/database/refusal.js';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { streams } from '../shared/streams.js';
import { caseDecider, type CaseCommand, type CaseState } from './case.decider.js';
import { asCaseEvents, type CaseEvent } from './case.events.js';

export interface CommandMeta {
  municipality: string;
  /** User id (token `sub`) or `system:<job>`. */
  actor: string;
  /** From If-Match: the version the client saw. */
  ifMatch?: number;
  correlationId?: string;
  /** The request's Idempotency-Key, taken in the append's transaction (set `taken` once appended). */
  idempotency?: TransactionalClaim;
  /** The answer's read of the person (access log, key), in the append's transaction (CaseResponder.commandReveal). */
  reveal?: RevealInCommand;
  /**
   * The request answers with the case after the command (CaseResponder.view): its
   * Idempotency-Key is then completed in the append's transaction, by reference to the case and
   * its new version (replayed by CASE_REPLAYER), with no write after the commit.
   */
  answersWithCase?: boolean;
}

/** The IdempotencyReplays name of a case command's answer; its ref: CaseReplayRef. */
export const CASE_REPLAYER = 'case';
export interface CaseReplayRef {
  replayer: typeof CASE_REPLAYER;
  municipality: string;
  caseId: string;
  /** The stream version the command left. */
  version: number;
  /** A registration: the answer had a Location. */
  created: boolean;
  [field: string]: unknown;
}

/**
 * What a command's answer reads of the person, sent in the command's own append transaction (so
 * its access-log row commits with the events, and no round trip or commit of its own is needed).
 */
export interface RevealInCommand {
  inTransaction(tx: SqlExecutor, caseId: string, pseudonym: string): Promise<void>;
  /** Set by the repository once the append that carried it has committed. */
  committed: boolean;
}

export interface CaseCommandOutcome {
  caseId: string;
  /** Stream version after the command. */
  version: number;
  /** Global position of the command's last event (or of the stream's last event when nothing was recorded). */
  position: number;
  /** The whole stream after the command. */
  events: StoredEvent[];
  /** What this command recorded (empty for an idempotent repeat). */
  recorded: CaseEvent[];
}

/** Internal retries when another command changed the case between our read and our append. */
const MAX_ATTEMPTS = 8;

/**
 * Load → decide → append for one case stream. Optimistic concurrency is enforced by the store:
 * with If-Match a conflict is the client's (412); without it the server re-reads and decides
 * again, so a command is checked against the latest state (API.md "Optimistic concurrency").
 */
@Injectable()
export class CaseRepository {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly projections: ProjectionEngine,
  ) {}

  /** The case's events (as known at `knownAt`), or a 404 when the municipality has no such case. */
  async load(municipality: string, caseId: string, knownAt?: Date, toVersion?: number): Promise<StoredEvent[]> {
    if (!/^[0-9a-f-]{36}$/i.test(caseId)) throw DomainError.notFound('case-not-found', `Case ${caseId} not found.`);
    try {
      const events = await this.store.readStream(streams.case(municipality, caseId), { ...(knownAt ? { knownAt } : {}), ...(toVersion ? { toVersion } : {}) });
      if (events.length === 0) throw new StreamNotFound(caseId);
      return events;
    } catch (e) {
      if (e instanceof StreamNotFound) throw DomainError.notFound('case-not-found', `Case ${caseId} not found.`);
      throw e;
    }
  }

  state(events: readonly StoredEvent[]): CaseState {
    return fold(caseDecider, asCaseEvents(events) as unknown as CaseEvent[]);
  }

  /**
   * Runs a command on an existing case. `build` turns the current state into the decider's
   * command (resolving rounds, encrypting reasons); it may run more than once on retries. It may
   * also give several commands: each is decided on the state the previous ones left, and all their
   * events are appended together or not at all (e.g. many benefit months in one request).
   */
  async execute(
    meta: CommandMeta,
    caseId: string,
    build: (state: CaseState, events: StoredEvent[]) => Promise<CaseCommand | CaseCommand[]> | CaseCommand | CaseCommand[],
  ): Promise<CaseCommandOutcome> {
    for (let attempt = 1; ; attempt++) {
      const events = await this.load(meta.municipality, caseId);
      const version = events[events.length - 1]!.version;
      if (meta.ifMatch !== undefined && meta.ifMatch !== version) throw preconditionFailed(version);
      const state = this.state(events);
      const decided = decideInOrder(await build(state, events), state);
      if (decided.length === 0) {
        return { caseId, version, position: events[events.length - 1]!.position, events, recorded: [] };
      }
      try {
        const { result, stored } = await this.append(meta, caseId, decided, version, pseudonymOf(events));
        const after = stored ? [...events, ...stored] : await this.load(meta.municipality, caseId);
        return { caseId, version: result.nextExpectedVersion, position: result.lastPosition, events: after, recorded: decided };
      } catch (e) {
        if (!(e instanceof WrongExpectedVersion)) throw e;
        if (meta.ifMatch !== undefined) throw preconditionFailed(e.actual);
        if (attempt >= MAX_ATTEMPTS) throw e;
        // Many writers on one case: spread the retries out so they stop colliding.
        await new Promise((r) => setTimeout(r, Math.random() * 4 * attempt));
      }
    }
  }

  /** Registers a new case stream (expected: no stream). */
  async create(meta: CommandMeta, caseId: string, command: CaseCommand, alsoInTransaction?: (tx: SqlExecutor) => Promise<void>): Promise<CaseCommandOutcome> {
    const decided = caseDecider.decide(command, caseDecider.initialState);
    const pseudonym = decided[0]?.type === 'CaseRegistered' ? decided[0].data.pseudonym : undefined;
    const { result, stored } = await this.append(meta, caseId, decided, 'no_stream', pseudonym, alsoInTransaction);
    const events = stored ?? (await this.load(meta.municipality, caseId));
    return { caseId, version: result.nextExpectedVersion, position: result.lastPosition, events, recorded: decided };
  }

  /**
   * Appends, and returns the appended events as a read of the stream would give them (from the
   * store's answer), so that the command's answer needs no second read of the stream; `stored` is
   * undefined when the store cannot vouch for them (a duplicate, or an adapter without them), and
   * the caller reads the stream instead.
   */
  private async append(
    meta: CommandMeta,
    caseId: string,
    decided: CaseEvent[],
    expectedVersion: number | 'no_stream',
    pseudonym: string | undefined,
    alsoInTransaction?: (tx: SqlExecutor) => Promise<void>,
  ): Promise<{ result: AppendResult; stored: StoredEvent[] | undefined }> {
    const correlationId = meta.correlationId ?? randomUUID();
    const events: NewEvent[] = decided.map((e) => ({
      type: e.type,
      schemaVersion: e.schemaVersion,
      data: e.data as unknown as Record<string, unknown>,
      metadata: { ...e.metadata, correlationId },
    }));
    const inline = this.projections.inline();
    const claim = meta.idempotency && !meta.idempotency.taken ? meta.idempotency : undefined;
    const answered = claim !== undefined && claim.status !== undefined && meta.answersWithCase === true;
    const ref: CaseReplayRef = {
      replayer: CASE_REPLAYER,
      municipality: meta.municipality,
      caseId,
      version: (expectedVersion === 'no_stream' ? 0 : expectedVersion) + decided.length,
      created: expectedVersion === 'no_stream',
    };
    const result = await this.store
      .append(streams.case(meta.municipality, caseId), events, {
        expectedVersion,
        tenant: meta.municipality,
        // The request's Idempotency-Key and the inline views (open case per person, round guard)
        // are written in the same transaction as the events.
        inline: async (tx, pending, attempt) => {
          if (claim) await takeClaim(tx, claim, answered ? ref : undefined);
          if (alsoInTransaction) await alsoInTransaction(tx);
          if (meta.reveal && pseudonym) await meta.reveal.inTransaction(tx, caseId, pseudonym);
          await inline(tx, pending, attempt);
        },
      })
      .catch((e: unknown) => {
        // A guard that refused in the database (its statement went with the append).
        throw refusalOf(e) ?? e;
      });
    // Taken with the events: an append that wrote nothing (a duplicate) rolled its claim back.
    if (claim && result.storedEvents) {
      claim.taken = true;
      claim.answered = answered;
    }
    if (meta.reveal && pseudonym && result.storedEvents) meta.reveal.committed = true;
    const stored = result.storedEvents?.();
    const vouched = stored !== undefined && stored.length === result.positions.length && stored[stored.length - 1]!.version === result.nextExpectedVersion;
    return { result, stored: vouched ? stored : undefined };
  }
}

/**
 * Takes the key in the append's transaction: the statement travels with the transaction's next
 * one (CoalescingExecutor) and, if the key is held, fails it (SQLSTATE VA412) and with it the append.
 */
async function takeClaim(tx: SqlExecutor, claim: TransactionalClaim, answer?: CaseReplayRef): Promise<void> {
  const { text, values } = answer ? IdempotencyStore.answeredClaimStatement(claim, {}, answer) : IdempotencyStore.claimStatement(claim);
  await sendWithNext(tx, text, values);
}

/** The case's person, as its registration recorded them. */
function pseudonymOf(events: readonly StoredEvent[]): string | undefined {
  const registered = events.find((e) => e.type === 'CaseRegistered');
  return typeof registered?.data.pseudonym === 'string' ? registered.data.pseudonym : undefined;
}

/** One command, or several decided one after the other, each on the state the previous ones' events left. */
function decideInOrder(built: CaseCommand | CaseCommand[], state: CaseState): CaseEvent[] {
  const decided: CaseEvent[] = [];
  for (const command of Array.isArray(built) ? built : [built]) {
    const events = caseDecider.decide(command, state);
    for (const e of events) state = caseDecider.evolve(state, e);
    decided.push(...events);
  }
  return decided;
}
