import type { ClosureReason, Gender, InterventionProvider, InterventionType, Priority } from '../../cases/case.events.js';
import { QUESTIONNAIRE_V1, type Answers, type Questionnaire } from '../../questionnaires/questionnaire.js';
import type { NewEvent } from '../../shared/event-store/event-store.port.js';
import { streams } from '../../shared/streams.js';
import { UNIT_CODES, type UnitCode } from '../../units/units.js';

/**
 * A synthetic municipality for tests and benchmarks: cases that live month by month (benefit
 * months, transfers, interventions, closures and reopenings), half-yearly rounds with
 * assessments, priorities and the odd correction. Deterministic for a seed, so a failing property
 * test or a benchmark can be run again on exactly the same history.
 *
 * The result is a list of recording steps in the order they must be appended: everything a step
 * holds may go in one bulk append, and each RoundClosed is a step of its own, after everything
 * recorded before it and before everything recorded after it.
 */
export interface SyntheticOptions {
  municipality: string;
  cases: number;
  rounds: number;
  seed?: number;
  /** Reference date of the first round; the next ones follow every six months. */
  firstReferenceDate?: string;
  /** Years of history (benefit months, registrations) before the first round. */
  historyYears?: number;
  questionnaire?: Questionnaire;
}

export interface SyntheticRound {
  roundId: string;
  label: string;
  referenceDate: string;
  openedOn: string;
  closedOn: string;
}

export interface SyntheticEvent {
  stream: string;
  tenant: string;
  event: NewEvent;
}

export interface SyntheticLog {
  rounds: SyntheticRound[];
  /** In append order; each step is one bulk append (a RoundClosed alone). */
  steps: SyntheticEvent[][];
  events: number;
}

/** Mulberry32: small, fast, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uuid-shaped id from the generator (deterministic for a seed). */
export function fakeUuid(rand: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rand() * 16).toString(16)).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const addDays = (date: string, days: number) => new Date(Date.parse(`${date}T12:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const addMonths = (date: string, months: number) => {
  const [y, m] = date.split('-').map(Number) as [number, number];
  const i = y * 12 + (m - 1) + months;
  const year = Math.floor(i / 12);
  const month = (i % 12) + 1;
  // 31 March + 6 months = 30 September: the day is clamped to the month's length.
  const day = Math.min(Number(date.slice(8, 10)), new Date(Date.UTC(year, month, 0)).getUTCDate());
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
};

function pick<T>(rand: () => number, items: readonly T[], weights?: readonly number[]): T {
  if (!weights) return items[Math.floor(rand() * items.length)]!;
  const total = weights.reduce((a, b) => a + b, 0);
  let r = rand() * total;
  for (let i = 0; i < items.length; i++) {
    r -= weights[i]!;
    if (r < 0) return items[i]!;
  }
  return items[items.length - 1]!;
}

/** Random answers with a realistic share of "vet ej" (more for health questions and for some caseworkers). */
export function randomAnswers(rand: () => number, questionnaire: Questionnaire, unknownRate = 0.12): Answers {
  const answers: Answers = {};
  for (const q of questionnaire.questions) {
    const codes = q.options.map((o) => o.code).filter((c) => c !== 'unknown');
    if (rand() < unknownRate) {
      answers[q.key] = q.type === 'multi' ? ['unknown'] : 'unknown';
    } else if (q.type === 'single') {
      answers[q.key] = pick(rand, codes);
    } else {
      const rest = codes.filter((c) => c !== 'none');
      if (codes.includes('none') && rand() < 0.25) answers[q.key] = ['none'];
      else {
        const chosen = rest.filter(() => rand() < 0.3);
        answers[q.key] = chosen.length > 0 ? chosen : [pick(rand, rest)];
      }
    }
  }
  return answers;
}

interface Pending {
  day: string;
  seq: number;
  item: SyntheticEvent;
}

export function syntheticMunicipality(o: SyntheticOptions): SyntheticLog {
  const rand = prng(o.seed ?? 1);
  const q = o.questionnaire ?? QUESTIONNAIRE_V1;
  const first = o.firstReferenceDate ?? '2021-03-31';
  const historyStart = addMonths(`${first.slice(0, 7)}-01`, -12 * (o.historyYears ?? 3));
  const rounds: SyntheticRound[] = Array.from({ length: o.rounds }, (_, i) => {
    const referenceDate = addMonths(first, 6 * i);
    const half = Number(referenceDate.slice(5, 7)) <= 6 ? 'H1' : 'H2';
    return { roundId: fakeUuid(rand), label: `${referenceDate.slice(0, 4)}-${half}`, referenceDate, openedOn: addDays(referenceDate, -14), closedOn: addDays(referenceDate, 21) };
  });
  const end = rounds.length > 0 ? rounds[rounds.length - 1]!.closedOn : first;
  const pending: Pending[] = [];
  let seq = 0;
  const push = (day: string, stream: string, type: string, data: Record<string, unknown>, effectiveDate: string, actor: string) =>
    pending.push({ day, seq: seq++, item: { stream, tenant: o.municipality, event: { type, schemaVersion: 1, data, metadata: { actor, effectiveDate } } } });

  for (const r of rounds) {
    push(r.openedOn, streams.rounds(o.municipality), 'RoundOpened', { roundId: r.roundId, label: r.label, referenceDate: r.referenceDate, questionnaireVersion: q.version }, r.openedOn, 'po-1');
  }
  const caseworkers = ['cw-anna', 'cw-bengt', 'cw-cecilia', 'cw-david', 'cw-eva', 'cw-fredrik'];
  const closureReasons: ClosureReason[] = ['employment', 'studies', 'other_benefit', 'moved', 'other', 'unknown'];
  const interventionTypes: InterventionType[] = ['language_coach', 'work_practice', 'employer_contact', 'rehabilitation', 'study_guidance', 'labour_market_programme', 'other'];
  const providers: InterventionProvider[] = ['municipality', 'employment_service', 'other'];
  const priorities: Priority[] = ['high', 'medium', 'low'];

  const spanDays = Math.max(1, Math.round((Date.parse(end) - Date.parse(historyStart)) / 86_400_000));
  for (let c = 0; c < o.cases; c++) {
    const caseId = fakeUuid(rand);
    const stream = streams.case(o.municipality, caseId);
    // Two thirds of the cases are already there before the first round (registration day).
    const registeredOn = rand() < 0.66 ? addDays(historyStart, Math.floor(rand() * (Date.parse(first) - Date.parse(historyStart)) / 86_400_000)) : addDays(historyStart, Math.floor(rand() * spanDays));
    const gender: Gender = pick(rand, ['female', 'male', 'other', 'unknown'] as const, [48, 48, 1, 3]);
    let unit: UnitCode = pick(rand, UNIT_CODES, [50, 20, 20, 10]);
    const worker = pick(rand, caseworkers);
    // Nothing of a case is recorded before its registration, nor before the first registration day.
    const recordDay = (effective: string) => [effective, registeredOn, first].sort()[2]!;
    push(
      recordDay(registeredOn),
      stream,
      'CaseRegistered',
      {
        caseId,
        pseudonym: `ps${String(c).padStart(7, '0')}${o.municipality}`,
        birthYear: 1955 + Math.floor(rand() * 50),
        gender,
        bornAbroad: pick(rand, ['yes', 'no', 'unknown'] as const, [40, 55, 5]),
        childrenInHousehold: rand() < 0.05 ? 'unknown' : pick(rand, [0, 0, 0, 1, 1, 2, 2, 3, 4]),
        unit,
      },
      registeredOn,
      worker,
    );
    // Register history: benefit months before the case was registered here.
    const historyMonths = rand() < 0.5 ? Math.floor(rand() * 36) : 0;
    for (let k = historyMonths; k > 0; k--) {
      const month = addMonths(`${registeredOn.slice(0, 7)}-01`, -k).slice(0, 7);
      if (rand() < 0.8) push(recordDay(registeredOn), stream, 'BenefitMonthRecorded', { month }, `${month}-01`, worker);
    }
    let open = true;
    let lastLifecycle = registeredOn;
    const running: { id: string; until: string }[] = [];
    const assessedRounds = new Set<string>();
    for (let monthStart = `${registeredOn.slice(0, 7)}-01`; monthStart <= end; monthStart = addMonths(monthStart, 1)) {
      const monthMid = addDays(monthStart, 14);
      if (open && rand() < 0.85) push(recordDay(addDays(monthStart, 20)), stream, 'BenefitMonthRecorded', { month: monthStart.slice(0, 7) }, monthStart, worker);
      if (open && rand() < 0.01) push(recordDay(addDays(monthStart, 40)), stream, 'BenefitMonthWithdrawn', { month: monthStart.slice(0, 7) }, monthStart, worker);
      // Lifecycle changes are dated after the latest one (the decider's rule), mid-month or later.
      if (monthMid > lastLifecycle) {
        if (open) {
          if (rand() < 0.03) {
            const toUnit = pick(rand, UNIT_CODES.filter((u) => u !== unit));
            push(recordDay(monthMid), stream, 'CaseTransferred', { fromUnit: unit, toUnit, reasonCiphertext: null }, monthMid, worker);
            unit = toUnit;
            lastLifecycle = monthMid;
          }
          if (rand() < 0.03) {
            const id = fakeUuid(rand);
            const startDate = monthMid;
            push(recordDay(startDate), stream, 'InterventionStarted', { interventionId: id, type: pick(rand, interventionTypes), provider: pick(rand, providers, [50, 40, 10]), startDate }, startDate, worker);
            running.push({ id, until: addMonths(startDate, 1 + Math.floor(rand() * 8)) });
          }
          for (const r of running.filter((x) => x.until <= monthMid)) {
            push(recordDay(r.until), stream, 'InterventionEnded', { interventionId: r.id, endDate: r.until, outcome: pick(rand, ['completed', 'interrupted', 'unknown'] as const) }, r.until, worker);
            running.splice(running.indexOf(r), 1);
          }
          if (rand() < 0.02) {
            const closeOn = addDays(monthStart, 25);
            for (const r of running.splice(0)) push(recordDay(closeOn), stream, 'InterventionEnded', { interventionId: r.id, endDate: closeOn, outcome: 'interrupted' }, closeOn, worker);
            push(recordDay(closeOn), stream, 'CaseClosed', { reason: pick(rand, closureReasons, [30, 15, 20, 10, 10, 15]), fromUnit: unit }, closeOn, worker);
            open = false;
            lastLifecycle = closeOn;
          }
        } else if (rand() < 0.04) {
          unit = pick(rand, UNIT_CODES);
          push(recordDay(monthMid), stream, 'CaseReopened', { unit }, monthMid, worker);
          open = true;
          lastLifecycle = monthMid;
        }
      }
      // Rounds whose reference date falls in this month: assess and prioritise the open case.
      for (const r of rounds) {
        if (r.referenceDate.slice(0, 7) !== monthStart.slice(0, 7) || assessedRounds.has(r.roundId)) continue;
        if (!open || registeredOn > r.referenceDate) continue;
        assessedRounds.add(r.roundId);
        const on = addDays(r.referenceDate, Math.floor(rand() * 14));
        if (rand() < 0.95) {
          const assessor = rand() < 0.8 ? worker : pick(rand, caseworkers);
          push(on, stream, 'AssessmentRecorded', { roundId: r.roundId, questionnaireVersion: q.version, answers: randomAnswers(rand, q, assessor === 'cw-fredrik' ? 0.3 : 0.12), assessedBy: assessor }, on, assessor);
          if (rand() < 0.9) push(on, stream, 'PrioritySet', { priority: pick(rand, priorities, [25, 45, 30]), roundId: r.roundId, reasonCiphertext: null }, on, assessor);
          if (rand() < 0.03) {
            const fix = randomAnswers(rand, q, 0.05);
            const key = pick(rand, q.questions).key;
            // Corrected after the round closed: the frozen snapshot keeps the original answer.
            push(addDays(r.closedOn, 5), stream, 'AssessmentCorrected', { roundId: r.roundId, answers: { [key]: fix[key]! }, reasonCiphertext: null, correctedBy: assessor }, on, assessor);
          }
        }
      }
    }
  }
  pending.sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.seq - b.seq));
  const steps: SyntheticEvent[][] = [];
  let current: SyntheticEvent[] = [];
  const closes = [...rounds].sort((a, b) => (a.closedOn < b.closedOn ? -1 : 1));
  let ci = 0;
  for (const p of pending) {
    while (ci < closes.length && closes[ci]!.closedOn < p.day) {
      if (current.length > 0) steps.push(current);
      steps.push([closeEvent(o.municipality, closes[ci]!)]);
      current = [];
      ci++;
    }
    current.push(p.item);
  }
  if (current.length > 0) steps.push(current);
  for (; ci < closes.length; ci++) steps.push([closeEvent(o.municipality, closes[ci]!)]);
  return { rounds, steps, events: pending.length + rounds.length };
}

function closeEvent(municipality: string, r: SyntheticRound): SyntheticEvent {
  return { stream: streams.rounds(municipality), tenant: municipality, event: { type: 'RoundClosed', schemaVersion: 1, data: { roundId: r.roundId }, metadata: { actor: 'po-1', effectiveDate: r.closedOn } } };
}
