import { sendWithNext } from '../../shared/database/coalescing-executor.js';
import type { Projection } from '../../shared/projections/projection.js';

/**
 * Inline guard: an assessment must not be recorded in a round that has been closed, even when
 * the command was decided while the round was still open. The assessment's append reads the
 * round's row FOR SHARE in its own transaction; closing the round updates that row. The row lock
 * settles the race (inline projections run before the append lock, see EventStore.append): a
 * close that comes second waits for the assessment to commit, an assessment that comes second
 * waits for the close to commit and then reads the row as closed. The check refuses in the
 * database (public.round_guard_check, 409 round-closed), so it travels with the append's next
 * statement instead of costing a round trip of its own.
 */
export const roundGuardProjection: Projection = {
  name: 'round_guard',
  version: 1,
  kind: 'inline',
  handles: ['RoundOpened', 'RoundClosed', 'AssessmentRecorded'],

  async setup(tx) {
    await tx.query(`CREATE TABLE round_guard (round_id text PRIMARY KEY, municipality text NOT NULL, status text NOT NULL)`);
  },

  async apply(tx, events) {
    for (const e of events) {
      const roundId = String(e.data.roundId);
      switch (e.type) {
        case 'RoundOpened':
          await tx.query(`INSERT INTO round_guard (round_id, municipality, status) VALUES ($1, $2, 'open') ON CONFLICT (round_id) DO NOTHING`, [roundId, e.tenant]);
          break;
        case 'RoundClosed':
          await tx.query(`UPDATE round_guard SET status = 'closed' WHERE round_id = $1`, [roundId]);
          break;
        case 'AssessmentRecorded':
          await sendWithNext(tx, 'SELECT public.round_guard_check($1)', [roundId]);
          break;
      }
    }
  },
};
