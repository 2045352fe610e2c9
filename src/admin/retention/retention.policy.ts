import { daysInMonth } from '../../shared/time/calendar.js';

/**
 * The retention rule (gallring), pure:
 *
 * - SoL 12 kap. 1 §: a personal file is culled five years after the last entry. Here the last
 *   entry is the closure: a person is culled when **every** case they have in the municipality is
 *   closed, and closed more than `years` years ago by the closure's effective date (the date it
 *   happened in the world, not when it was typed in). An open case keeps the whole person.
 * - SoF 7 kap. 2 §: for research, people born on the 5th, 15th or 25th of a month are kept
 *   (when the municipality keeps that sample: RETENTION_KEEP_RESEARCH_SAMPLE). The birth day is
 *   read from the personnummer; a samordningsnummer's day is the birth day + 60.
 */
export interface RetentionCase {
  caseId: string;
  status: 'open' | 'closed';
  /** Effective date of the closure in force (null while open). */
  closedOn: string | null;
}

export interface RetentionPerson {
  pseudonym: string;
  cases: RetentionCase[];
}

export interface RetentionPlan {
  /** People whose every case was closed before the cutoff and who are not in the research sample. */
  cull: RetentionPerson[];
  /** People who would be culled but are kept for research. */
  keptForResearch: RetentionPerson[];
}

export const RESEARCH_SAMPLE_DAYS: readonly number[] = [5, 15, 25];

/**
 * The first date that is not "more than `years` years ago" on `today` (YYYY-MM-DD): a closure
 * strictly before it is old enough. 29 February counts back to 28 February in a common year.
 */
export function retentionCutoff(today: string, years: number): string {
  const [y, m, d] = today.split('-').map(Number) as [number, number, number];
  const year = y - years;
  const day = Math.min(d, daysInMonth(year, m));
  return `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Day of the month the person was born, from a validated 12-digit personnummer or samordningsnummer. */
export function birthDayOf(pin: string): number {
  const digits = pin.replace(/\D/g, '');
  if (digits.length !== 12) throw new Error('birthDayOf needs a 12-digit personnummer');
  const day = Number(digits.slice(6, 8));
  return day > 60 ? day - 60 : day;
}

export function isResearchSample(pin: string): boolean {
  return RESEARCH_SAMPLE_DAYS.includes(birthDayOf(pin));
}

/** Whether every case of the person is closed before the cutoff. */
export function isDueForCulling(person: RetentionPerson, cutoff: string): boolean {
  return person.cases.length > 0 && person.cases.every((c) => c.status === 'closed' && c.closedOn !== null && c.closedOn < cutoff);
}

/**
 * Splits the people due for culling into those culled and those kept for research.
 * `pinOf` is asked only for people who are due (the number is needed for the birth day).
 */
export function planRetention(
  people: readonly RetentionPerson[],
  opts: { cutoff: string; keepResearchSample: boolean; pinOf: (pseudonym: string) => string | undefined },
): RetentionPlan {
  const cull: RetentionPerson[] = [];
  const keptForResearch: RetentionPerson[] = [];
  for (const p of people) {
    if (!isDueForCulling(p, opts.cutoff)) continue;
    if (opts.keepResearchSample) {
      const pin = opts.pinOf(p.pseudonym);
      // Unreadable number (already shredded): nothing left to keep for research.
      if (pin !== undefined && isResearchSample(pin)) {
        keptForResearch.push(p);
        continue;
      }
    }
    cull.push(p);
  }
  return { cull, keptForResearch };
}
