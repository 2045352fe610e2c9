import { Inject, Injectable, Logger } from '@nestjs/common';
import type { ResolvedConfig } from '../../config/config.js';
import { toDomainEvents } from '../../cases/projections/case-list.projection.js';
import { caseView } from '../../cases/case.view.js';
import { APP_CONFIG } from '../../shared/database/database.tokens.js';
import { EVENT_STORE, type EventStore } from '../../shared/event-store/event-store.port.js';
import { isShredded, PersonVault } from '../../shared/privacy/vault.js';
import { ProjectionEngine } from '../../shared/projections/projection-engine.js';
import { stockholmDate } from '../../shared/time/calendar.js';
import { PersonEraser, type ErasureRequest } from '../erasure/person-eraser.js';
import { planRetention, retentionCutoff, type RetentionPerson } from './retention.policy.js';

/** People erased per call: a first run over years of history is done in a few calls, none of them endless. */
export const MAX_PERSONS_PER_RUN = 500;

export interface RetentionReport {
  dryRun: boolean;
  /** Cases closed before this date are old enough (more than `retentionYears` years ago). */
  cutoff: string;
  retentionYears: number;
  keepResearchSample: boolean;
  /** What goes (dry run: would go) in this call: case ids and closure dates, never a personnummer. */
  items: { caseId: string; closedOn: string }[];
  persons: number;
  /** Due, but kept because born on the 5th, 15th or 25th (counts only). */
  keptForResearch: { persons: number; cases: number };
  /** Due people left for a next call (only a real run stops at MAX_PERSONS_PER_RUN). */
  remainingPersons: number;
  /** Position of the last PersonErased written (null in a dry run or when nothing went). */
  position: number | null;
}

/**
 * Retention culling (gallring) of one municipality: finds the people due under the rule in
 * retention.policy.ts from the case_list read model (waiting until it has caught up with the
 * log), and erases each of them exactly as an admin's erasure does (basis `retention`).
 */
@Injectable()
export class RetentionService {
  private readonly logger = new Logger('Retention');

  constructor(
    private readonly engine: ProjectionEngine,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    private readonly vault: PersonVault,
    private readonly eraser: PersonEraser,
    @Inject(APP_CONFIG) private readonly config: ResolvedConfig,
  ) {}

  async run(
    municipality: string,
    opts: { dryRun: boolean; actor: string; correlationId?: string; today?: string; audit?: ErasureRequest['audit'] },
  ): Promise<RetentionReport> {
    const today = opts.today ?? stockholmDate();
    const cutoff = retentionCutoff(today, this.config.retentionYears);
    const people = await this.candidates(municipality);
    const pins = this.config.retentionKeepResearchSample ? await this.vault.revealPins(municipality, people.map((p) => p.pseudonym)) : new Map();
    const plan = planRetention(people, {
      cutoff,
      keepResearchSample: this.config.retentionKeepResearchSample,
      pinOf: (p) => {
        const pin = pins.get(p);
        return pin === undefined || isShredded(pin) ? undefined : pin;
      },
    });
    const now = opts.dryRun ? plan.cull : plan.cull.slice(0, MAX_PERSONS_PER_RUN);
    let position: number | null = null;
    if (!opts.dryRun) {
      for (const person of now) {
        const outcome = await this.eraser.erase({
          municipality,
          pseudonym: person.pseudonym,
          actor: opts.actor,
          basis: 'retention',
          reason: `retention: every case closed before ${cutoff}`,
          correlationId: opts.correlationId,
          audit: opts.audit,
        });
        if (outcome.position !== null) position = Math.max(position ?? 0, outcome.position);
      }
      if (now.length > 0) this.logger.log(`culled ${now.length} person(s) in ${municipality} (closed before ${cutoff})`);
    }
    const items = now
      .flatMap((p) => p.cases.map((c) => ({ caseId: c.caseId, closedOn: c.closedOn! })))
      .sort((a, b) => (a.closedOn < b.closedOn ? -1 : a.closedOn > b.closedOn ? 1 : a.caseId < b.caseId ? -1 : 1));
    return {
      dryRun: opts.dryRun,
      cutoff,
      retentionYears: this.config.retentionYears,
      keepResearchSample: this.config.retentionKeepResearchSample,
      items,
      persons: now.length,
      keptForResearch: { persons: plan.keptForResearch.length, cases: plan.keptForResearch.reduce((n, p) => n + p.cases.length, 0) },
      remainingPersons: plan.cull.length - now.length,
      position,
    };
  }

  /**
   * Municipalities with cases (for the scheduled run), read once the case list has caught up with
   * the log: a municipality whose first cases are still on their way to the view is not skipped.
   */
  async municipalities(): Promise<string[]> {
    const head = await this.store.headPosition();
    return this.engine.read(
      'case_list',
      async (tx) => {
        const { rows } = await tx.query<{ municipality: string }>('SELECT DISTINCT municipality FROM case_list ORDER BY 1');
        return rows.map((r) => r.municipality);
      },
      head,
    );
  }

  /** People of the municipality whose every case is closed, with each case's closure date. */
  private async candidates(municipality: string): Promise<RetentionPerson[]> {
    const head = await this.store.headPosition();
    const rows = await this.engine.read(
      'case_list',
      async (tx) =>
        (
          await tx.query<{ case_id: string; pseudonym: string; status: string; events: Parameters<typeof toDomainEvents>[0] }>(
            `SELECT case_id::text AS case_id, pseudonym, status, events FROM case_list
              WHERE municipality = $1 AND pseudonym IN (
                SELECT pseudonym FROM case_list WHERE municipality = $1
                 GROUP BY pseudonym HAVING bool_and(status = 'closed'))
              ORDER BY pseudonym, case_id`,
            [municipality],
          )
        ).rows,
      head,
    );
    const byPerson = new Map<string, RetentionPerson>();
    for (const r of rows) {
      const view = caseView(toDomainEvents(r.events));
      let person = byPerson.get(r.pseudonym);
      if (!person) byPerson.set(r.pseudonym, (person = { pseudonym: r.pseudonym, cases: [] }));
      person.cases.push({ caseId: r.case_id, status: view?.status === 'closed' ? 'closed' : 'open', closedOn: view?.closure?.effectiveDate ?? null });
    }
    return [...byPerson.values()];
  }
}
