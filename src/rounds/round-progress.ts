import { Injectable } from '@nestjs/common';
import { ProjectionEngine } from '../shared/projections/projection-engine.js';
import type { Round } from './round.decider.js';

export interface RoundProgress {
  /** Cases open on the reference date. */
  activeCases: number;
  assessed: number;
  prioritised: number;
  /** Active cases without an assessment yet. */
  remaining: number;
}

export interface RoundResponse {
  id: string;
  label: string;
  referenceDate: string;
  questionnaireVersion: number;
  status: 'open' | 'closed';
  openedOn: string;
  closedOn: string | null;
  progress: RoundProgress;
}

/** Live progress of registration day, from the `case_list` projection. */
@Injectable()
export class RoundProgressService {
  constructor(private readonly projections: ProjectionEngine) {}

  async describe(municipality: string, rounds: Round[], minPosition?: number): Promise<RoundResponse[]> {
    if (rounds.length === 0) {
      if (minPosition !== undefined) await this.projections.waitFor('case_list', minPosition);
      return [];
    }
    const progress = await this.projections.read(
      'case_list',
      async (tx) => {
        const { rows } = await tx.query<{ round_id: string; active: string; assessed: string; prioritised: string }>(
          `SELECT r.round_id,
                  count(c.case_id) AS active,
                  count(c.case_id) FILTER (WHERE r.round_id = ANY(c.assessed_rounds)) AS assessed,
                  count(c.case_id) FILTER (WHERE r.round_id = ANY(c.prioritised_rounds)) AS prioritised
             FROM unnest($2::text[], $3::date[]) AS r(round_id, reference_date)
             LEFT JOIN case_list c ON c.municipality = $1 AND c.open_periods @> r.reference_date
            GROUP BY r.round_id`,
          [municipality, rounds.map((r) => r.roundId), rounds.map((r) => r.referenceDate)],
        );
        return new Map(rows.map((r) => [r.round_id, r]));
      },
      minPosition,
    );
    return rounds.map((r) => {
      const p = progress.get(r.roundId);
      const active = Number(p?.active ?? 0);
      const assessed = Number(p?.assessed ?? 0);
      return {
        id: r.roundId,
        label: r.label,
        referenceDate: r.referenceDate,
        questionnaireVersion: r.questionnaireVersion,
        status: r.status,
        openedOn: r.openedOn,
        closedOn: r.status === 'closed' ? r.closedOn : null,
        progress: { activeCases: active, assessed, prioritised: Number(p?.prioritised ?? 0), remaining: active - assessed },
      };
    });
  }
}
