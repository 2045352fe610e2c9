import { sendWithNext } from '../../shared/database/coalescing-executor.js';
import type { SqlExecutor, StoredEvent } from '../../shared/event-store/event-store.port.js';
import type { Projection } from '../../shared/projections/projection.js';
import { caseIdOfStream } from '../../shared/streams.js';
import { erasedCaseIdsOf, PERSON_ERASED } from '../../admin/erasure/person-erased.event.js';

/**
 * Inline view "which person has an open case" (one per person per municipality). Written in the
 * append's transaction, so the primary key settles two registrations of the same person racing
 * each other: the second append fails with 409 and nothing of it is written.
 *
 * PersonErased (src/admin/erasure, appended with this projection inline) drops the erased cases
 * from both tables: the person no longer has a case here, so imports report them unknown and a
 * new registration is possible. The version stays 1 although it now handles PersonErased: no log
 * held that event before this handler existed, so every existing build equals a rebuild, and a
 * bump would leave registrations without the duplicate check while version 2 is built.
 */
export const openCasesProjection: Projection = {
  name: 'open_cases',
  version: 1,
  kind: 'inline',
  handles: ['CaseRegistered', 'CaseClosed', 'CaseReopened', PERSON_ERASED],

  async setup(tx) {
    await tx.query(`CREATE TABLE case_persons (case_id uuid PRIMARY KEY, municipality text NOT NULL, pseudonym text NOT NULL)`);
    await tx.query(`CREATE TABLE open_cases (municipality text NOT NULL, pseudonym text NOT NULL, case_id uuid NOT NULL UNIQUE, PRIMARY KEY (municipality, pseudonym))`);
  },

  async apply(tx, events) {
    for (const e of events) {
      if (e.type === PERSON_ERASED) {
        const ids = erasedCaseIdsOf(e);
        await tx.query('DELETE FROM open_cases WHERE case_id = ANY($1::uuid[])', [ids]);
        await tx.query('DELETE FROM case_persons WHERE case_id = ANY($1::uuid[])', [ids]);
        continue;
      }
      const caseId = caseIdOfStream(e.stream)!;
      switch (e.type) {
        case 'CaseRegistered': {
          const pseudonym = String(e.data.pseudonym);
          await sendWithNext(tx, 'INSERT INTO case_persons (case_id, municipality, pseudonym) VALUES ($1, $2, $3) ON CONFLICT (case_id) DO NOTHING', [caseId, e.tenant, pseudonym]);
          await open(tx, e, caseId, pseudonym);
          break;
        }
        case 'CaseReopened': {
          const { rows } = await tx.query<{ pseudonym: string }>('SELECT pseudonym FROM case_persons WHERE case_id = $1', [caseId]);
          if (rows[0]) await open(tx, e, caseId, rows[0].pseudonym);
          break;
        }
        case 'CaseClosed':
          await tx.query('DELETE FROM open_cases WHERE case_id = $1', [caseId]);
          break;
      }
    }
  },
};

/**
 * Claims the person's open-case row, refusing (409 person-has-open-case) when another case holds
 * it. In the database (public.open_case_claim, migration 1764000650000), so the claim travels
 * with the append's next statement instead of costing a round trip.
 */
async function open(tx: SqlExecutor, e: StoredEvent, caseId: string, pseudonym: string): Promise<void> {
  await sendWithNext(tx, 'SELECT public.open_case_claim($1, $2, $3)', [e.tenant, pseudonym, caseId]);
}

/** The person's open case in the municipality, if any (the decider's `openCaseOfPerson`). */
export async function openCaseOf(tx: SqlExecutor, municipality: string, pseudonym: string): Promise<string | null> {
  const { rows } = await tx.query<{ case_id: string }>('SELECT case_id FROM open_cases WHERE municipality = $1 AND pseudonym = $2', [municipality, pseudonym]);
  return rows[0]?.case_id ?? null;
}
