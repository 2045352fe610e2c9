import { CASE_EVENT_TYPES } from '../../cases/case.events.js';
import { sendWithNext } from '../../shared/database/coalescing-executor.js';
import { DomainError } from '../../shared/domain/domain-error.js';
import type { SqlExecutor } from '../../shared/event-store/event-store.port.js';
import { Problem } from '../../shared/http/problem.js';
import type { Projection } from '../../shared/projections/projection.js';
import type { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { erasedCaseIdsOf, PERSON_ERASED } from './person-erased.event.js';

export const ERASED_CASES = 'erased_cases';

/** Advisory lock namespace (two-key form) per case id: guard shared, erasure exclusive. */
export const CASE_LOCK = 727_194;

/**
 * Inline: which cases have been erased, and a guard that nothing more is written to them.
 *
 * The guard runs in the append's transaction of every case event: a command that was decided
 * before the erasure but appends after it answers 404 and writes nothing, so no fact about an
 * erased person enters the log after their key is gone. Inline projections run before the append
 * lock, so the race is settled by an advisory lock per case (CASE_LOCK): the guard takes it
 * shared before it looks, the erasure exclusively before it marks the case, and each holds it to
 * its commit. Whichever comes second waits for the first to commit: a command first commits before
 * the erasure (its events are erased with the rest of the case), an erasure first makes the
 * command's look (a new statement, so a new snapshot) find the case erased. A registration is
 * never refused: it opens a new case id (a person registered again after erasure gets a new key;
 * see PersonVault.registerPerson).
 *
 * Exports and log replays read `erased_cases` to leave the erased cases out (erasedCaseIds).
 */
export const erasedCasesProjection: Projection = {
  name: ERASED_CASES,
  version: 1,
  kind: 'inline',
  handles: [PERSON_ERASED, ...CASE_EVENT_TYPES.filter((t) => t !== 'CaseRegistered')],

  async setup(tx) {
    // No position column: inline projections run before positions are given (the PersonErased
    // event's position is in the log). Migration 1764000610000 dropped it from existing builds.
    await tx.query(`CREATE TABLE erased_cases (case_id uuid PRIMARY KEY, municipality text NOT NULL)`);
    await tx.query('CREATE INDEX erased_cases_municipality ON erased_cases (municipality)');
  },

  async apply(tx, events) {
    for (const e of events) {
      if (e.type === PERSON_ERASED) {
        const ids = erasedCaseIdsOf(e);
        if (ids.length === 0) continue;
        // Appended now (inline: no position yet): hold back the commands racing with it. A build
        // reading the log needs no lock (and must not take one per case of a large batch).
        if (e.position === 0) await tx.query('SELECT pg_advisory_xact_lock($1, hashtext(id)) FROM unnest($2::text[]) AS id ORDER BY id', [CASE_LOCK, ids]);
        await tx.query(
          `INSERT INTO erased_cases (case_id, municipality)
           SELECT id, $2 FROM unnest($1::uuid[]) AS id ON CONFLICT (case_id) DO NOTHING`,
          [ids, e.tenant],
        );
        continue;
      }
      const caseId = caseIdOfStream(e.stream);
      if (!caseId) continue;
      // Inline (no position yet): the lock, then the look in a new snapshot (sees an erasure that
      // committed while we waited), refusing in the database: public.erased_case_check
      // (migrations 1764000620000, 1764000650000), so it travels with the append's next
      // statement instead of costing a round trip. A build reading the log only looks: what is
      // in the log has committed.
      if (e.position === 0) {
        await sendWithNext(tx, 'SELECT public.erased_case_check($1, $2)', [CASE_LOCK, caseId]);
        continue;
      }
      if (((await tx.query('SELECT 1 FROM erased_cases WHERE case_id = $1', [caseId])).rowCount ?? 0) > 0) throw DomainError.notFound('case-not-found', 'Case not found.');
    }
  },
};

/**
 * Whether the case was erased. Readers need this besides the vault: a person registered again
 * after erasure has a readable key under the same pseudonym, which must not reopen the old case.
 * False while the projection has no live build yet (its first build, before any erasure exists).
 */
export async function isCaseErased(engine: ProjectionEngine, caseId: string): Promise<boolean> {
  if (!engine.projection(ERASED_CASES)) return false;
  try {
    return await engine.read(ERASED_CASES, async (tx) => (await tx.query('SELECT 1 FROM erased_cases WHERE case_id = $1', [caseId])).rowCount === 1);
  } catch (e) {
    if (e instanceof Problem && e.getStatus() === 503) return false;
    throw e;
  }
}

/** The erased case ids of a municipality, read in a transaction pointed at the live build. */
export async function erasedCaseIds(tx: SqlExecutor, municipality: string): Promise<Set<string>> {
  const { rows } = await tx.query<{ case_id: string }>('SELECT case_id::text AS case_id FROM erased_cases WHERE municipality = $1', [municipality]);
  return new Set(rows.map((r) => r.case_id));
}
