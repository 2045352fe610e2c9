import { Inject, Injectable, Logger } from '@nestjs/common';
import { createHmac, hkdfSync, randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type { ResolvedConfig } from '../../config/config.js';
import { APP_CONFIG, PG_POOL } from '../../shared/database/database.tokens.js';
import { DomainError } from '../../shared/domain/domain-error.js';
import { EVENT_STORE, StreamNotFound, type EventStore, type SqlExecutor, type StoredEvent } from '../../shared/event-store/event-store.port.js';
import { IdempotencyStore } from '../../shared/http/idempotency/idempotency.store.js';
import { AccessLog } from '../../shared/privacy/access-log.js';
import { isShredded, lockPerson, PersonVault } from '../../shared/privacy/vault.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { quoteIdent } from '../../shared/projections/projection-schema.js';
import { streams } from '../../shared/streams.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { erasedCaseIdsOf, PERSON_ERASED, type ErasureBasis, type PersonErasedData } from './person-erased.event.js';

export interface ErasureRequest {
  municipality: string;
  pseudonym: string;
  /** User id, or `system:retention`. */
  actor: string;
  reason: string;
  basis: ErasureBasis;
  correlationId?: string;
  /** Who asked, for the audit row in the access log (default: the actor, no roles). */
  audit?: { roles: string[]; endpoint: string; requestId?: string | null };
}

export interface ErasureOutcome {
  /** False when the person was already erased (nothing new was written). */
  erased: boolean;
  /** Id of the PersonErased event (null when nothing was written). */
  erasureId: string | null;
  caseIds: string[];
  /** Global position of the PersonErased event (X-Event-Position), or of the earlier one. */
  position: number | null;
}

/** Case set changed between reading it and the erasure's transaction: decide again. */
class CasesChanged extends Error {}

/**
 * Erasure of one person in one municipality (API.md "Administration"), in one transaction of the
 * event store's append:
 *
 * 1. the PersonErased event is appended to `erasures-<code>` (the log stays append-only; earlier
 *    events keep their positions and order);
 * 2. the person's data key and encrypted personnummer are destroyed (PersonVault.shred): every
 *    ciphertext of theirs — the number, reasons, wherever it was copied, backups included — is
 *    unreadable from now on;
 * 3. inline views drop them (open_cases/case_persons), erased_cases starts refusing writes to
 *    their cases, and stored idempotent responses that mention their cases are deleted;
 * 4. the access log gets the audit rows (who, when, which cases; purpose `erasure (<basis>)`).
 *
 * The case set is read before the transaction and checked again inside it, under the person's
 * lock (lockPerson, also taken by registrations): a case registered in between makes the erasure
 * decide again, so no case of the person escapes it. Async read models follow by handling
 * PersonErased themselves (case_list, round_snapshots via insight-erasure.ts), so a rebuild ends
 * the same.
 */
@Injectable()
export class PersonEraser {
  private readonly logger = new Logger('Erasure');
  private readonly idempotency: IdempotencyStore;
  private readonly reasonKey: Buffer;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly engine: ProjectionEngine,
    private readonly vault: PersonVault,
    private readonly accessLog: AccessLog,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(APP_CONFIG) config: ResolvedConfig,
  ) {
    this.idempotency = new IdempotencyStore(pool, config.masterKey);
    this.reasonKey = Buffer.from(hkdfSync('sha256', config.pseudonymKey, Buffer.alloc(0), 'vagen:erasure-reason:v1', 32));
  }

  /** The keyed hash kept of an erasure's reason (hex). */
  reasonHash(reason: string): string {
    return createHmac('sha256', this.reasonKey).update(reason.normalize('NFC')).digest('hex');
  }

  async erase(r: ErasureRequest): Promise<ErasureOutcome> {
    if (!(await this.vault.exists(r.municipality, r.pseudonym))) {
      throw DomainError.notFound('person-not-found', 'The municipality has no person with this personal identity number.');
    }
    for (let attempt = 1; ; attempt++) {
      const casesSchema = await this.engine.liveSchema('open_cases');
      const caseIds = await casesOf(this.pool, casesSchema, r.municipality, r.pseudonym);
      const pin = (await this.vault.revealPins(r.municipality, [r.pseudonym])).get(r.pseudonym);
      if (caseIds.length === 0 && (pin === undefined || isShredded(pin))) return this.alreadyErased(r);
      const data: PersonErasedData = { pseudonym: r.pseudonym, caseIds, basis: r.basis, reasonHash: this.reasonHash(r.reason) };
      const erasureId = randomUUID();
      const inline = this.engine.inline();
      try {
        const result = await this.store.append(
          streams.erasures(r.municipality),
          [{ id: erasureId, type: PERSON_ERASED, data: data as unknown as Record<string, unknown>, metadata: { actor: r.actor, correlationId: r.correlationId, effectiveDate: stockholmDate() } }],
          {
            expectedVersion: 'any',
            tenant: r.municipality,
            inline: async (tx, stored, attempt) => {
              await lockPerson(tx, r.municipality, r.pseudonym);
              const now = await casesOf(tx, casesSchema, r.municipality, r.pseudonym);
              if (now.join() !== caseIds.join()) throw new CasesChanged();
              await this.vault.shred(r.municipality, r.pseudonym, tx);
              await this.idempotency.forgetMentioning(`/api/v1/municipalities/${r.municipality}/`, caseIds, tx);
              await this.recordAudit(r, caseIds, tx);
              await inline(tx, stored, attempt);
            },
          },
        );
        this.logger.log(`erased a person in ${r.municipality} (${caseIds.length} case(s), basis ${r.basis}) at position ${result.lastPosition}`);
        return { erased: true, erasureId, caseIds, position: result.lastPosition };
      } catch (e) {
        if (!(e instanceof CasesChanged) || attempt >= 5) throw e;
      }
    }
  }

  /**
   * The audit trail of the erasure in the access log, in its transaction: who, when, on which
   * cases (pseudonymous ids, as every earlier read of them is logged), with the basis as purpose.
   * Never the personnummer, never the reason's text.
   */
  private async recordAudit(r: ErasureRequest, caseIds: string[], tx: SqlExecutor): Promise<void> {
    const subjects = caseIds.length > 0 ? caseIds.map((caseId) => ({ caseId, pseudonym: r.pseudonym })) : [{ caseId: null, pseudonym: r.pseudonym }];
    await this.accessLog.recordMany(
      {
        municipality: r.municipality,
        userId: r.actor,
        roles: r.audit?.roles ?? [],
        endpoint: r.audit?.endpoint ?? `${r.basis} erasure`,
        purpose: `erasure (${r.basis})`,
        requestId: r.audit?.requestId ?? r.correlationId ?? null,
      },
      subjects,
      tx,
    );
  }

  /** Nothing left to shred: answers with the earlier PersonErased of the person. */
  private async alreadyErased(r: ErasureRequest): Promise<ErasureOutcome> {
    let events: StoredEvent[];
    try {
      events = await this.store.readStream(streams.erasures(r.municipality));
    } catch (e) {
      if (!(e instanceof StreamNotFound)) throw e;
      events = [];
    }
    const mine = events.filter((e) => e.type === PERSON_ERASED && e.data.pseudonym === r.pseudonym);
    const caseIds = [...new Set(mine.flatMap(erasedCaseIdsOf))].sort();
    const last = mine[mine.length - 1];
    return { erased: false, erasureId: last?.id ?? null, caseIds, position: last?.position ?? null };
  }
}

/** The person's case ids from the inline view case_persons (live build of open_cases), sorted. */
async function casesOf(db: SqlExecutor, schema: string, municipality: string, pseudonym: string): Promise<string[]> {
  const { rows } = await db.query<{ case_id: string }>(
    `SELECT case_id::text AS case_id FROM ${quoteIdent(schema)}.case_persons WHERE municipality = $1 AND pseudonym = $2 ORDER BY case_id`,
    [municipality, pseudonym],
  );
  return rows.map((x) => x.case_id);
}
