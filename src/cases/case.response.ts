import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { Pool } from 'pg';
import type { FastifyRequest } from 'fastify';
import type { Principal } from '../shared/auth/principal.js';
import { answerWithNext, CoalescingExecutor, sendWithNext } from '../shared/database/coalescing-executor.js';
import { PG_POOL } from '../shared/database/database.tokens.js';
import { EVENT_STORE, StreamNotFound, type EventStore, type SqlExecutor, type StoredEvent } from '../shared/event-store/event-store.port.js';
import { AccessLog, type AccessContext } from '../shared/privacy/access-log.js';
import { isShredded, PersonVault, type PersonRow, type Shredded } from '../shared/privacy/vault.js';
import { formatPersonalIdentityNumber } from '../shared/privacy/personal-identity-number.js';
import { DomainError } from '../shared/domain/domain-error.js';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import { quoteIdent } from '../shared/projections/projection-schema.js';
import { streams } from '../shared/streams.js';
import { isCaseErased } from '../admin/erasure/erased-cases.projection.js';
import { asCaseEvents } from './case.events.js';
import { caseView, type CaseView } from './case.view.js';
import { IdempotencyReplays } from '../shared/http/idempotency/idempotency.replays.js';
import { CASE_REPLAYER, CaseRepository, type CaseReplayRef, type RevealInCommand } from './case.repository.js';
import { openCasesProjection } from './projections/open-cases.projection.js';

export type CaseResponse = Omit<CaseView, 'pseudonym' | 'assessments'> & {
  personalIdentityNumber: string;
  assessments: Record<string, Omit<CaseView['assessments'][string], 'corrections'> & { corrections: { answers: unknown; reason: string | null; correctedBy: string; recordedAt: string | null }[] }>;
};

/** The person's key row read with the case's events (CommandReveal, CaseResponder.read). */
export interface Revealed {
  revealedFor(caseId: string, pseudonym: string): Promise<{ rows: PersonRow[] }> | undefined;
}

export interface HistoryItem {
  position: number;
  version: number;
  type: string;
  effectiveDate: string;
  recordedAt: string;
  actor: string;
  data: Record<string, unknown>;
}

/**
 * Turns a case's events into what a caseworker sees: the personnummer and free text decrypted
 * from the vault, and every such read written to the access log in the same request (a failed
 * log write fails the read).
 */
@Injectable()
export class CaseResponder implements OnModuleInit {
  constructor(
    private readonly vault: PersonVault,
    private readonly accessLog: AccessLog,
    private readonly projections: ProjectionEngine,
    private readonly cases: CaseRepository,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly replays: IdempotencyReplays,
  ) {}

  /**
   * A repeat of a case command (same Idempotency-Key and body) is answered from the case as the
   * command left it (CaseReplayRef, recorded with the command's events): the same body and
   * headers as the first answer, read and logged as any read of the case; 404 once the person is
   * erased.
   */
  onModuleInit(): void {
    this.replays.register(CASE_REPLAYER, async (ref, req, reply) => {
      const { municipality, caseId, version, created } = ref as CaseReplayRef;
      const principal = (req as FastifyRequest & { principal: Principal }).principal;
      const { events, revealed } = await this.read(req, principal, municipality, caseId, undefined, version);
      void reply.header('ETag', `"${version}"`);
      void reply.header('X-Event-Position', String(events[events.length - 1]!.position));
      if (created) void reply.header('Location', `/api/v1/municipalities/${municipality}/cases/${caseId}`);
      return this.view(req, principal, municipality, events, undefined, revealed);
    });
  }

  /**
   * A case's events (as known at `knownAt`) for `view` or `history`, in one round trip where the
   * store is on PostgreSQL: the access-log row and the person's key are found by case id through
   * the inline view case_persons, so they need not wait for the events to name the person, and
   * all three statements travel as one message (one implicit transaction: a failed log write
   * fails the read). Elsewhere, or when case_persons does not name the person (a build switched
   * a moment ago, an erased person), `view` and `history` log and read the key after the events.
   * 404 for a case the municipality does not have.
   */
  async read(req: FastifyRequest, principal: Principal, municipality: string, caseId: string, knownAt?: Date, toVersion?: number): Promise<{ events: StoredEvent[]; revealed?: Revealed }> {
    if (!this.store.readStreamWith || !CASE_ID.test(caseId)) return { events: await this.cases.load(municipality, caseId, knownAt, toVersion) };
    const casePersons = `${quoteIdent(await this.projections.liveSchema(openCasesProjection.name))}.case_persons`;
    const log = AccessLog.recordCaseStatement(AccessLog.context(req, principal, municipality), caseId, casePersons);
    const person = PersonVault.revealCaseStatement(municipality, caseId, casePersons);
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const db = new CoalescingExecutor(client, { prepare: true });
    try {
      const [, keys, events] = await Promise.all([
        db.query(log.text, log.values),
        db.query<PersonRow>(person.text, person.values),
        this.store.readStreamWith(db, streams.case(municipality, caseId), { ...(knownAt ? { knownAt } : {}), ...(toVersion ? { toVersion } : {}) }),
      ]);
      if (events.length === 0) throw new StreamNotFound(caseId);
      const rows = Promise.resolve(keys);
      return { events, revealed: { revealedFor: (id, pseudonym) => (id === caseId && keys.rows.some((r) => r.pseudonym === pseudonym) ? rows : undefined) } };
    } catch (e) {
      if (e instanceof StreamNotFound) throw DomainError.notFound('case-not-found', `Case ${caseId} not found.`);
      // A connection that failed mid-message is not given back to the pool.
      if (!(e as { code?: string }).code) broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      await db.idle();
      client.release(broken);
    }
  }

  /**
   * For a command's answer: its access-log row and the read of the person's key go in the
   * command's append transaction (CaseRepository), instead of a round trip and a commit of their
   * own after it. Give the same object to `view`; if the append did not commit them (a repeat
   * that appended nothing, another event store), `view` logs and reads as for any read.
   */
  commandReveal(req: FastifyRequest, principal: Principal, municipality: string): CommandReveal {
    return new CommandReveal(AccessLog.context(req, principal, municipality));
  }

  async view(req: FastifyRequest, principal: Principal, municipality: string, events: StoredEvent[], validAt?: string, reveal?: Revealed): Promise<CaseResponse> {
    const view = caseView(asCaseEvents(events), validAt ? { validAt } : {});
    if (!view) throw DomainError.notFound('case-not-found', validAt ? `The case did not exist on ${validAt}.` : 'Case not found.');
    const revealed = reveal?.revealedFor(view.id, view.pseudonym);
    const pin = revealed
      ? await this.checkedPin(view.id, this.vault.personsOf(municipality, (await revealed).rows).get(view.pseudonym))
      : await this.loggedPin(req, principal, municipality, view.id, view.pseudonym);
    const { pseudonym, assessments, ...rest } = view;
    const decrypted: CaseResponse['assessments'] = {};
    for (const [roundId, a] of Object.entries(assessments)) {
      decrypted[roundId] = {
        ...a,
        corrections: await Promise.all(
          a.corrections.map(async ({ reasonCiphertext, ...c }) => ({ ...c, reason: await this.text(municipality, pseudonym, reasonCiphertext) })),
        ),
      };
    }
    return { ...rest, personalIdentityNumber: pin, assessments: decrypted };
  }

  async history(req: FastifyRequest, principal: Principal, municipality: string, caseId: string, events: StoredEvent[], reveal?: Revealed): Promise<HistoryItem[]> {
    const pseudonym = String(events.find((e) => e.type === 'CaseRegistered')?.data.pseudonym ?? '');
    // 404 once the person is erased, as for the case itself.
    const revealed = reveal?.revealedFor(caseId, pseudonym);
    if (revealed) await this.checkedPin(caseId, this.vault.personsOf(municipality, (await revealed).rows).get(pseudonym));
    else await this.loggedPin(req, principal, municipality, caseId, pseudonym);
    return Promise.all(
      events.map(async (e) => {
        const { reasonCiphertext, pseudonym: _p, ...data } = e.data as Record<string, unknown>;
        if (typeof reasonCiphertext === 'string') data.reason = await this.text(municipality, pseudonym, reasonCiphertext);
        else if (reasonCiphertext === null) data.reason = null;
        return {
          position: e.position,
          version: e.version,
          type: e.type,
          effectiveDate: String(e.metadata.effectiveDate),
          recordedAt: e.recordedAt.toISOString(),
          actor: e.metadata.actor,
          data,
        };
      }),
    );
  }

  async log(req: FastifyRequest, principal: Principal, municipality: string, caseId: string, pseudonym: string | null): Promise<void> {
    await this.accessLog.record({ ...AccessLog.context(req, principal, municipality), caseId, pseudonym });
  }

  /**
   * The access-log row and the personnummer in one round trip (they travel together, see
   * CoalescingExecutor), as one implicit transaction: a failed log write fails the read, and
   * nothing is answered.
   */
  private async loggedPin(req: FastifyRequest, principal: Principal, municipality: string, caseId: string, pseudonym: string): Promise<string> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    const db = new CoalescingExecutor(client, { prepare: true });
    try {
      const [, pin] = await Promise.all([
        this.accessLog.record({ ...AccessLog.context(req, principal, municipality), caseId, pseudonym }, db),
        this.pin(municipality, pseudonym, caseId, db),
      ]);
      return pin;
    } catch (e) {
      // A connection that failed mid-message is not given back to the pool.
      if (!(e instanceof DomainError) && !(e as { code?: string }).code) broken = e instanceof Error ? e : new Error(String(e));
      throw e;
    } finally {
      await db.idle();
      client.release(broken);
    }
  }

  private async pin(municipality: string, pseudonym: string, caseId: string, db?: SqlExecutor): Promise<string> {
    return this.checkedPin(caseId, (await this.vault.revealPersons(municipality, [pseudonym], db, true)).get(pseudonym));
  }

  private async checkedPin(caseId: string, person: { pin: string | Shredded; generation: number } | undefined): Promise<string> {
    // An erased person's case is gone for readers (API.md "Administration"), also after the
    // person is registered again (a new key under the same pseudonym). A case enters
    // erased_cases only in the transaction that shreds its person's key (PersonEraser), so while
    // the key is of its first generation (never shredded) no case of the person can be erased,
    // and the check is left out: it is a transaction of its own on every read otherwise.
    if (person === undefined || isShredded(person.pin) || (person.generation > 1 && (await isCaseErased(this.projections, caseId)))) {
      throw DomainError.notFound('case-not-found', 'Case not found.');
    }
    return formatPersonalIdentityNumber(person.pin);
  }

  private async text(municipality: string, pseudonym: string, envelope: string): Promise<string | null> {
    const t = await this.vault.decryptFor(municipality, pseudonym, envelope);
    return isShredded(t) ? null : t;
  }
}

const CASE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** See CaseResponder.commandReveal. */
export class CommandReveal implements RevealInCommand, Revealed {
  committed = false;
  private sent?: { caseId: string; pseudonym: string; rows: Promise<{ rows: PersonRow[] }> };

  constructor(private readonly context: AccessContext) {}

  async inTransaction(tx: SqlExecutor, caseId: string, pseudonym: string): Promise<void> {
    // Only where both travel with the append (the PostgreSQL store's inline path); elsewhere the
    // answer reads and logs after the command, as any read does.
    if (!(tx instanceof CoalescingExecutor)) return;
    const log = AccessLog.recordStatement(this.context, [{ caseId, pseudonym }]);
    await sendWithNext(tx, log.text, log.values);
    const person = PersonVault.revealStatement(this.context.municipality, [pseudonym]);
    this.sent = { caseId, pseudonym, rows: answerWithNext<PersonRow>(tx, person.text, person.values) };
  }

  /** The person's key row as the committed append read it, if it carried this case's read. */
  revealedFor(caseId: string, pseudonym: string): Promise<{ rows: PersonRow[] }> | undefined {
    return this.committed && this.sent?.caseId === caseId && this.sent.pseudonym === pseudonym ? this.sent.rows : undefined;
  }
}
