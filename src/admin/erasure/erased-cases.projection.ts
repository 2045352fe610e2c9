import { CASE_EVENT_TYPES } from '../../cases/case.events.js';
import { DomainError } from '../../shared/domain/domain-error.js';
import type { SqlExecutor } from '../../shared/event-store/event-store.port.js';
import { Problem } from '../../shared/http/problem.js';
import type { Projection } from '../../shared/projections/projection.js';
import type { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { erasedCaseIdsOf, PERSON_ERASED } from './person-erased.event.js';

export const ERASED_CASES = 'erased_cases';

/**
 * Inline: which cases have been erased, and a guard that nothing more is written to them.
 *
 * The guard runs in the append's transaction of every case event (appends are serialised by the
 * store, see round_guard): a command that was decided before the erasure but appends after it
 * answers 404 and writes nothing, so no fact about an erased person enters the log after their
 * key is gone. A registration is never refused: it opens a new case id (a person registered again
 * after erasure gets a new key; see PersonVault.registerPerson).
 *
 * Exports and log replays read `erased_cases` to leave the erased cases out (erasedCaseIds).
 */
export const erasedCasesProjection: Projection = {
  name: ERASED_CASES,
  version: 1,
  kind: 'inline',
  handles: [PERSON_ERASED, ...CASE_EVENT_TYPES.filter((t) => t !== 'CaseRegistered')],

  async setup(tx) {
    await tx.query(`CREATE TABLE erased_cases (case_id uuid PRIMARY KEY, municipality text NOT NULL, erased_position bigint NOT NULL)`);
    await tx.query('CREATE INDEX erased_cases_municipality ON erased_cases (municipality)');
  },

  async apply(tx, events) {
    for (const e of events) {
      if (e.type === PERSON_ERASED) {
        const ids = erasedCaseIdsOf(e);
        if (ids.length === 0) continue;
        await tx.query(
          `INSERT INTO erased_cases (case_id, municipality, erased_position)
           SELECT id, $2, $3 FROM unnest($1::uuid[]) AS id ON CONFLICT (case_id) DO NOTHING`,
          [ids, e.tenant, e.position],
        );
        continue;
      }
      const caseId = caseIdOfStream(e.stream);
      if (!caseId) continue;
      const { rowCount } = await tx.query('SELECT 1 FROM erased_cases WHERE case_id = $1', [caseId]);
      if (rowCount) throw DomainError.notFound('case-not-found', 'Case not found.');
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
