/** Shapes of the API's answers (API.md), as far as the pages use them. */
import type { Answers, HistoryEntry, Questionnaire } from '../assessment/answers';

export type { Answers, HistoryEntry, Questionnaire };

export interface List<T> {
  items: T[];
  nextCursor: string | null;
}

export interface RoundProgress {
  activeCases: number;
  assessed: number;
  prioritised: number;
  remaining: number;
}

export interface Round {
  id: string;
  label: string;
  referenceDate: string;
  questionnaireVersion: number;
  status: 'open' | 'closed';
  progress: RoundProgress;
  openedOn: string;
  closedOn: string | null;
}

export interface CaseSummary {
  id: string;
  personalIdentityNumber: string;
  birthYear: number;
  gender: string;
  unit: string | null;
  priority: string | null;
  status: 'open' | 'closed';
  registeredOn: string;
  assessedRounds: string[];
  version: number;
}

export interface Intervention {
  interventionId: string;
  type: string;
  provider: string;
  startDate: string;
  endDate: string | null;
  outcome: string | null;
}

export interface Assessment {
  roundId: string;
  questionnaireVersion?: number;
  answers: Answers;
  originalAnswers?: Answers;
  assessedBy?: string;
  effectiveDate?: string;
  recordedAt?: string | null;
  corrections: { answers: Answers; reason: string | null; correctedBy: string; recordedAt: string | null }[];
}

export interface CaseDetail {
  id: string;
  personalIdentityNumber: string;
  birthYear: number;
  gender: string;
  bornAbroad: string;
  childrenInHousehold: number | 'unknown';
  registeredOn: string;
  status: 'open' | 'closed';
  unit: string | null;
  priority: string | null;
  priorityByRound: Record<string, string>;
  closure?: { reason: string; effectiveDate: string; fromUnit?: string } | null;
  interventions: Intervention[];
  benefitMonths: string[];
  assessments: Record<string, Assessment>;
  version: number;
}

/** "198501012389" → "19850101-2389". */
export function formatPnr(pnr: string | undefined): string {
  if (!pnr) return '–';
  const d = pnr.replace(/\D/g, '');
  return d.length === 12 ? `${d.slice(0, 8)}-${d.slice(8)}` : pnr;
}

export function caseLabel(c: { id: string; personalIdentityNumber?: string }): string {
  return c.personalIdentityNumber ? formatPnr(c.personalIdentityNumber) : `Ärende ${c.id.slice(0, 8)}`;
}

export function actorName(actor: HistoryEntry['actor']): string {
  if (!actor) return '–';
  if (typeof actor === 'string') return actor;
  return actor.name ?? actor.userId ?? '–';
}
