import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../../shared/event-store/event-store.port.js';

/**
 * What an erasure does to the insight read model (`round_snapshots`, src/insight/snapshot), as
 * SQL on its tables in the transaction's search_path:
 *
 * - the erased cases' facts (`insight_cases`, `insight_assessments`) are deleted, so live views
 *   (`knownAt=now`, open rounds) and everything recomputed from them no longer contain them;
 * - their rows in frozen snapshots (`snapshot_rows`) are kept but made anonymous: the case id is
 *   replaced by a random `erased-<uuid>` (the same one in every round, so a flow between two
 *   frozen rounds still matches them and frozen aggregates keep their numbers) and the pseudonym
 *   by ''; the row says `erased: true`. Row-level outputs (snapshot rows, panel exports) must skip
 *   such rows; aggregates count them.
 *
 * Idempotent: a second call finds nothing left under the old case ids. The projection calls it
 * when it applies a PersonErased event, so a rebuild ends the same.
 */
export async function eraseFromRoundSnapshots(tx: SqlExecutor, tenant: string, caseIds: readonly string[]): Promise<void> {
  if (caseIds.length === 0) return;
  const ids = [...caseIds];
  await tx.query('DELETE FROM insight_assessments WHERE tenant = $1 AND case_id = ANY($2::text[])', [tenant, ids]);
  await tx.query('DELETE FROM insight_cases WHERE tenant = $1 AND case_id = ANY($2::text[])', [tenant, ids]);
  const anonymous = ids.map(() => `erased-${randomUUID()}`);
  await tx.query(
    `UPDATE snapshot_rows s
        SET case_id = m.anon, pseudonym = '',
            row = s.row || jsonb_build_object('caseId', m.anon, 'pseudonym', '', 'erased', true)
       FROM unnest($2::text[], $3::text[]) AS m(case_id, anon)
      WHERE s.tenant = $1 AND s.case_id = m.case_id`,
    [tenant, ids, anonymous],
  );
}
