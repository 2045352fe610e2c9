import type { BornAbroad, ChildrenInHousehold, ClosureReason, Gender, InterventionOutcome, InterventionProvider, InterventionType, Priority } from '../cases/case.events.js';
import type { AnswerValue, Answers } from '../questionnaires/questionnaire.js';
import { luhnCheckDigit } from '../shared/privacy/personal-identity-number.js';
import type { UnitCode } from '../units/units.js';
import { Random } from './prng.js';
import type { RoundPlan, TimelinePeriod, TimelineStep } from './timeline.js';

/*
 * A seeded, deterministic municipality like the one in seed 004: about 270 people on
 * assistance on the registration day, measured every half year, moving between the four units
 * of "Vägen till hållbar egen försörjning", with the seed's findings in the data:
 * - mental ill-health is the most common obstacle; physical ill-health is common too;
 * - a small share in active (or previous) substance abuse;
 * - women get fewer interventions, from the municipality and from Arbetsförmedlingen (less so
 *   after the first round, when the process was changed to reach women);
 * - people deregistered from Arbetsförmedlingen;
 * - many refused sickness benefit despite a sick certificate;
 * - the language coach and employer contact arrive after the first round;
 * - caseworkers say "vet ej" often in the first round and less later.
 *
 * Every person is simulated on their own random stream (Random.fork), in continuous time:
 * closures, transfers, interventions and reopenings are Poisson processes whose rates depend on
 * the person (distance to the labour market, health, gender, unit). Benefit months come from a
 * per-person payment pattern with breaks, back `historyYears` before the first round, so the
 * four duration categories (benefit-duration.ts) all occur.
 *
 * The output is pure data (timeline.ts): same options, same timeline. `periods()` yields it one
 * period at a time, so the bulk simulator holds one municipality's people and one half year of
 * steps, never the whole history.
 */

export interface MunicipalityOptions {
  seed: number;
  /** Kommunkod; part of the random streams, so municipalities with one seed differ. */
  municipality: string;
  /** The last day anything may happen (the real today for the demo). YYYY-MM-DD. */
  today: string;
  /** Measurement rounds, half a year apart; the last one's reference date is 10 days before `today`. */
  rounds: number;
  /** Whether the last round stays open (the demo: yes). Earlier rounds are always closed. */
  lastRoundOpen?: boolean;
  /** Open cases on the first round's reference date (seed 004: about 270). */
  openCases: number;
  /** Years of benefit history before the first round (10 gives all four duration categories). */
  historyYears?: number;
  /** Prefix of the generated actors' user ids: `<prefix>-caseworker-01`, `<prefix>-process-owner`. */
  actorPrefix?: string;
}

/** New cases per open case per month; calibrated so the number of open cases stays about level. */
const ARRIVALS_PER_OPEN_CASE_MONTH = 0.026;
const DAYS_PER_MONTH = 30.44;
const ROUND_OPENS_BEFORE = 14;
const ROUND_CLOSES_AFTER = 21;
/** The registration day is one day (seed 004); later rounds are assessed over a few weeks. */
const LATER_ROUND_ASSESSMENT_DAYS = 20;

export const BENEFIT_IMPORT_ACTOR = 'system:benefit-import';

export function planRounds(options: Pick<MunicipalityOptions, 'today' | 'rounds' | 'lastRoundOpen'>): RoundPlan[] {
  if (!Number.isInteger(options.rounds) || options.rounds < 1) throw new Error('rounds must be a whole number ≥ 1');
  const today = dayOf(options.today);
  const last = today - 10;
  const plans: RoundPlan[] = [];
  for (let k = 0; k < options.rounds; k++) {
    const ref = addMonthsToDay(last, -6 * (options.rounds - 1 - k));
    const iso = isoOf(ref);
    const label = `${iso.slice(0, 4)}-H${Number(iso.slice(5, 7)) <= 6 ? 1 : 2}`;
    const isLast = k === options.rounds - 1;
    plans.push({ key: label, label, referenceDate: iso, opens: isoOf(ref - ROUND_OPENS_BEFORE), closes: isLast && options.lastRoundOpen !== false ? null : isoOf(Math.min(ref + ROUND_CLOSES_AFTER, today)) });
  }
  return plans;
}

/** The whole timeline in order (the demo's size; use `periods()` for big runs). */
export function generateTimeline(options: MunicipalityOptions): TimelineStep[] {
  const steps: TimelineStep[] = [];
  for (const period of new MunicipalityGenerator(options).periods()) steps.push(...period.steps);
  return steps;
}

// ---------------------------------------------------------------------------------------------
// People

type Severity = 0 | 1 | 2;
type Education = 'none' | 'compulsory' | 'upper_secondary' | 'post_secondary';
type PreviousWork = 'never' | 'under_1_year' | '1_to_5_years' | 'over_5_years';
type EmploymentService = 'registered' | 'deregistered_last_12_months' | 'never_registered';
type SicknessApplication = 'not_applied' | 'pending' | 'granted' | 'rejected';
type Distance = 'close' | 'medium' | 'far';

interface Traits {
  mental: Severity;
  physical: Severity;
  substance: 'never' | 'previous' | 'active';
  language: boolean;
  education: Education;
  previousWork: PreviousWork;
  employmentService: EmploymentService;
  sickCertificate: boolean;
  sicknessApplication: SicknessApplication;
  housingProblem: boolean;
  childcareProblem: boolean;
  otherObstacle: boolean;
  studies: boolean;
  partTimeWork: boolean;
  socialServices: boolean;
  /** Unobserved drive; pulls priority and closures towards work. */
  motivation: number;
}

interface Intervention {
  key: string;
  type: InterventionType;
  provider: InterventionProvider;
  start: number;
  /** Planned end (day); ended early when the case closes. */
  end: number;
  outcome: InterventionOutcome;
}

interface Person {
  key: string;
  rng: Random;
  gender: Gender;
  female: boolean;
  birthYear: number;
  abroad: boolean;
  children: number;
  traits: Traits;
  /** Per question: the caseworker knows the answer once the round's unknown rate falls below this. */
  knowledge: Record<string, number>;
  assessments: number;
  unit: UnitCode;
  open: boolean;
  caseworker: string;
  /** Continuous time in days; events are dated floor(t). */
  t: number;
  nextRound: number;
  running: Intervention[];
  interventionCount: number;
  employerContactCompleted: boolean;
  /** Open intervals in days, [from, to) with to = null while open. */
  intervals: [number, number | null][];
  /** Benefit pattern. */
  paidShare: number;
  breakLeft: number;
  /** Next month (month index) whose benefit has not been decided yet. */
  nextBenefitMonth: number;
}

const UNIT_LIST: readonly UnitCode[] = ['forsorjningsstod', 'vuxenstod', 'arbete-och-integration', 'rehabilitering-och-utveckling'];

/** Share of "vet ej" per question in a person's first assessment; later ones have less (UNKNOWN_FACTOR). */
const BASE_UNKNOWN: Record<string, number> = {
  education: 0.2,
  previousWork: 0.22,
  workObstacles: 0.1,
  physicalHealth: 0.16,
  mentalHealth: 0.2,
  substanceAbuse: 0.32,
  sickCertificate: 0.14,
  sicknessBenefitApplication: 0.26,
  currentActivity: 0.06,
  registeredWithEmploymentService: 0.14,
  otherBenefits: 0.12,
  otherSupport: 0.22,
  languageSupportNeeded: 0.05,
  distanceToLabourMarket: 0.1,
};
/** By how many assessments of the person came before: the first round knows least. */
const UNKNOWN_FACTOR = [1, 0.5, 0.3, 0.22];

const CORRECTION_REASONS = ['Uppgift kompletterad efter samtal med klienten', 'Läkarintyg har inkommit', 'Uppgift från Arbetsförmedlingen', 'Felregistrering rättad'];
const TRANSFER_REASONS = ['Behov av rehabiliterande insats', 'Närmare arbetsmarknaden', 'Behov av stöd kring missbruk', 'Språkstöd och etablering', 'Tillbaka till ordinarie handläggning'];
const PRIORITY_REASONS = ['Nära arbete, arbetsgivarkontakt pågår', 'Avvaktar läkarbedömning', 'Ny information om hälsoläget', 'Motiverad till studier'];

export class MunicipalityGenerator {
  readonly rounds: RoundPlan[];
  private readonly rng: Random;
  private readonly today: number;
  private readonly people: Person[] = [];
  private readonly pins = new Set<string>();
  private readonly caseworkers: Record<UnitCode, string[]>;
  private readonly processOwner: string;
  private readonly historyYears: number;
  private personCount = 0;
  private steps: TimelineStep[] = [];
  /** End (exclusive day) of the period being generated: nothing may be dated after it. */
  private periodUntil = 0;
  /** Day of the first round's reference date: when the process starts (the registration day). */
  private readonly start: number;
  /** Day from which the process changes reach women and the new interventions exist. */
  private readonly changeDay: number;

  constructor(private readonly options: MunicipalityOptions) {
    this.rounds = planRounds(options);
    this.rng = new Random(options.seed).fork(`municipality:${options.municipality}`);
    this.today = dayOf(options.today);
    this.start = dayOf(this.rounds[0]!.referenceDate);
    this.changeDay = this.start + 60;
    this.historyYears = options.historyYears ?? 10;
    const prefix = options.actorPrefix ?? 'demo';
    const perUnit = Math.max(1, Math.round(options.openCases / 100));
    this.caseworkers = Object.fromEntries(UNIT_LIST.map((u, i) => [u, Array.from({ length: perUnit }, (_, k) => `${prefix}-caseworker-${String(i * perUnit + k + 1).padStart(2, '0')}`)])) as Record<
      UnitCode,
      string[]
    >;
    this.processOwner = `${prefix}-process-owner`;
  }

  /** The timeline, one period at a time: `setup` (registering the cases), then one per round. */
  *periods(): Generator<TimelinePeriod> {
    const setupDay = this.start - 3;
    const first = this.rounds[0]!;
    this.steps = [];
    this.periodUntil = this.start;
    this.emit(dayOf(first.opens), { command: 'OpenRound', actor: this.processOwner, round: first.key, body: { label: first.label, referenceDate: first.referenceDate, questionnaireVersion: 1 } });
    for (let i = 0; i < this.options.openCases; i++) {
      const person = this.newPerson(this.start, setupDay, 'initial');
      person.t = this.start;
      this.benefitMonths(person, setupDay, this.start);
    }
    yield this.period('setup', dayOf(first.opens), this.start);

    for (let k = 0; k < this.rounds.length; k++) {
      const round = this.rounds[k]!;
      const from = dayOf(round.referenceDate);
      const next = this.rounds[k + 1];
      const until = next ? dayOf(next.referenceDate) : this.today + 1;
      this.steps = [];
      this.periodUntil = until;
      if (round.closes) this.emit(dayOf(round.closes), { command: 'CloseRound', actor: this.processOwner, round: round.key });
      if (next) this.emit(dayOf(next.opens), { command: 'OpenRound', actor: this.processOwner, round: next.key, body: { label: next.label, referenceDate: next.referenceDate, questionnaireVersion: 1 } });
      // New cases arrive through the period; they are people like the others, only newer.
      // Over years the people far from work stay and the others leave, so closures slow down; half
      // of any gap to the intended size is closed by extra (or fewer) arrivals, so a ten-year
      // simulation keeps the municipality's size.
      const openNow = this.people.filter((p) => p.open).length;
      const arrivals = this.rng.poisson(
        Math.max(0, (ARRIVALS_PER_OPEN_CASE_MONTH * this.options.openCases * (until - from)) / DAYS_PER_MONTH + 0.5 * (this.options.openCases - openNow)),
      );
      // Not on the reference date itself: whoever is there on that day was registered before.
      const arrivalDays = Array.from({ length: arrivals }, () => from + 1 + Math.floor(this.rng.next() * (until - from - 1))).sort((a, b) => a - b);
      for (const day of arrivalDays) this.newPerson(day, day, 'new');
      for (const person of this.people) {
        this.advance(person, until);
        this.benefitMonths(person, from, until);
      }
      yield this.period(round.label, from, until);
    }
  }

  private period(name: string, from: number, until: number): TimelinePeriod {
    const steps = this.steps;
    this.steps = [];
    // Stable: steps on one day keep the order they were generated in (per case: as they happened).
    steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
    return { name, from: isoOf(from), to: isoOf(until), steps };
  }

  private emit(day: number, step: DistributiveOmit<TimelineStep, 'at'>): void {
    if (day > this.today || day >= this.periodUntil) throw new Error(`generator bug: a step dated ${isoOf(day)} after today ${this.options.today} or the period's end ${isoOf(this.periodUntil - 1)}`);
    this.steps.push({ at: isoOf(day), ...step } as TimelineStep);
  }

  // -------------------------------------------------------------------------------------------
  // A new person and their case

  private newPerson(caseStart: number, registeredOn: number, kind: 'initial' | 'new'): Person {
    this.personCount++;
    const key = `c${String(this.personCount).padStart(4, '0')}`;
    const rng = this.rng.fork(`person:${key}`);
    const gender = rng.weighted<Gender>([
      ['female', 0.47],
      ['male', 0.522],
      ['other', 0.004],
      ['unknown', 0.004],
    ]);
    const female = gender === 'female' || (gender !== 'male' && rng.chance(0.5));
    const age = rng.weighted<[number, number]>([
      [[18, 24], 0.17],
      [[25, 34], 0.27],
      [[35, 44], 0.23],
      [[45, 54], 0.19],
      [[55, 64], 0.14],
    ]);
    const ageYears = rng.int(age[0], age[1]);
    // Born so that the age on the registration day is `ageYears`.
    const birthDay = addMonthsToDay(registeredOn, -12 * ageYears) - rng.int(1, 364);
    const birthYear = Number(isoOf(birthDay).slice(0, 4));
    const abroad = rng.chance(0.46);
    const children = female
      ? rng.weighted([
          [0, 0.46],
          [1, 0.2],
          [2, 0.17],
          [3, 0.1],
          [4, 0.05],
          [5, 0.02],
        ])
      : rng.weighted([
          [0, 0.76],
          [1, 0.1],
          [2, 0.08],
          [3, 0.04],
          [4, 0.02],
        ]);
    const traits = this.traits(rng, { female, ageYears, abroad, children });
    const knowledge = Object.fromEntries(Object.keys(BASE_UNKNOWN).map((q) => [q, rng.next()]));
    const person: Person = {
      key,
      rng,
      gender,
      female,
      birthYear,
      abroad,
      children,
      traits,
      knowledge,
      assessments: 0,
      unit: 'forsorjningsstod',
      open: true,
      caseworker: '',
      t: registeredOn,
      nextRound: this.rounds.findIndex((r) => dayOf(r.referenceDate) >= registeredOn),
      running: [],
      interventionCount: 0,
      employerContactCompleted: false,
      intervals: [[caseStart, null]],
      paidShare: 0.9 + rng.next() * 0.09,
      breakLeft: 0,
      nextBenefitMonth: 0,
    };
    if (person.nextRound < 0) person.nextRound = this.rounds.length;
    person.unit = rng.weighted(UNIT_LIST.map((u) => [u, this.unitWeight(person, u)] as const));
    person.caseworker = this.caseworkerFor(person);
    this.people.push(person);

    // The case start: for the people already on assistance on the registration day, somewhere in
    // the last `historyYears` (+ a little); their earlier months are the register history.
    let start = caseStart;
    if (kind === 'initial') {
      const historyMonths = 12 * this.historyYears;
      const months = rng.weighted<[number, number]>([
        [[0, 11], 0.2],
        [[12, 35], 0.25],
        [[36, 71], 0.25],
        [[72, historyMonths + 6], 0.3],
      ]);
      start = addMonthsToDay(caseStart, -rng.int(months[0], Math.max(months[0], months[1]))) - rng.int(0, 27);
      person.intervals = [[start, null]];
    }
    const pin = this.personnummer(rng, birthDay, female, abroad);
    this.emit(registeredOn, {
      command: 'RegisterCase',
      actor: person.caseworker,
      case: key,
      body: {
        personalIdentityNumber: pin,
        gender,
        bornAbroad: rng.chance(0.02) ? 'unknown' : ((abroad ? 'yes' : 'no') satisfies BornAbroad),
        childrenInHousehold: rng.chance(0.03) ? 'unknown' : (children satisfies ChildrenInHousehold),
        unit: person.unit,
        effectiveDate: isoOf(Math.min(start, registeredOn)),
      },
    });

    // Register history: months before the case (returning people) or before the system existed.
    const historyEnd = monthOfDay(registeredOn);
    let firstMonth = monthOfDay(start);
    if (kind === 'new' && rng.chance(0.3)) {
      // Someone who has been on assistance before: an earlier spell ending 2–24 months ago.
      const endsAgo = rng.int(2, 24);
      firstMonth = historyEnd - endsAgo - rng.int(4, 60);
      for (let m = firstMonth; m < historyEnd - endsAgo; m++) if (this.paidThisMonth(person)) this.recordMonth(person, registeredOn, m);
      person.breakLeft = 0;
      firstMonth = monthOfDay(start);
    }
    for (let m = firstMonth; m < historyEnd; m++) if (this.paidThisMonth(person)) this.recordMonth(person, registeredOn, m);
    person.nextBenefitMonth = Math.max(firstMonth, historyEnd);
    return person;
  }

  private traits(rng: Random, p: { female: boolean; ageYears: number; abroad: boolean; children: number }): Traits {
    const mentalAny = rng.chance(0.56);
    const mental: Severity = mentalAny ? (rng.chance(0.4) ? 2 : 1) : 0;
    const physicalAny = rng.chance(0.28 + Math.max(0, p.ageYears - 40) * 0.012);
    const physical: Severity = physicalAny ? (rng.chance(0.3) ? 2 : 1) : 0;
    const substance = rng.weighted<Traits['substance']>([
      ['active', p.female ? 0.035 : 0.08],
      ['previous', p.female ? 0.07 : 0.13],
      ['never', 0.83],
    ]);
    const language = p.abroad ? rng.chance(0.5) : rng.chance(0.015);
    const education = p.abroad
      ? rng.weighted<Education>([
          ['none', 0.24],
          ['compulsory', 0.3],
          ['upper_secondary', 0.3],
          ['post_secondary', 0.16],
        ])
      : rng.weighted<Education>([
          ['none', 0.05],
          ['compulsory', 0.38],
          ['upper_secondary', 0.44],
          ['post_secondary', 0.13],
        ]);
    const young = p.ageYears < 25;
    const previousWork = rng.weighted<PreviousWork>([
      ['never', young ? 0.45 : 0.15 + (education === 'none' ? 0.1 : 0)],
      ['under_1_year', young ? 0.35 : 0.25],
      ['1_to_5_years', young ? 0.18 : 0.35],
      ['over_5_years', young ? 0.02 : p.ageYears > 45 ? 0.35 : 0.22],
    ]);
    const severe = mental === 2 || physical === 2;
    const employmentService = rng.weighted<EmploymentService>([
      ['registered', severe ? 0.35 : 0.62],
      // The seed's finding: people on assistance were deregistered from Arbetsförmedlingen.
      ['deregistered_last_12_months', severe ? 0.35 : 0.2],
      ['never_registered', severe ? 0.3 : 0.18],
    ]);
    const sickCertificate = severe ? rng.chance(0.75) : mental + physical > 0 ? rng.chance(0.3) : rng.chance(0.03);
    // Seed: many had been refused sickness benefit despite a sick certificate.
    const sicknessApplication = sickCertificate
      ? rng.weighted<SicknessApplication>([
          ['rejected', 0.4],
          ['pending', 0.16],
          ['granted', 0.14],
          ['not_applied', 0.3],
        ])
      : rng.weighted<SicknessApplication>([
          ['not_applied', 0.88],
          ['rejected', 0.08],
          ['pending', 0.03],
          ['granted', 0.01],
        ]);
    return {
      mental,
      physical,
      substance,
      language,
      education,
      previousWork,
      employmentService,
      sickCertificate,
      sicknessApplication,
      housingProblem: rng.chance(0.12),
      childcareProblem: p.children > 0 && rng.chance(p.female ? 0.35 : 0.08),
      otherObstacle: rng.chance(0.06),
      studies: rng.chance(young ? 0.15 : 0.05),
      partTimeWork: rng.chance(0.07),
      socialServices: rng.chance(p.children > 0 ? 0.22 : 0.1),
      motivation: rng.normal(),
    };
  }

  private personnummer(rng: Random, birthDay: number, female: boolean, abroad: boolean): string {
    const iso = isoOf(birthDay);
    const coordination = abroad && rng.chance(0.03);
    for (;;) {
      // NNN: the last of the three digits is even for women, odd for men.
      const serial = rng.int(0, 49) * 20 + rng.int(0, 4) * 2 + (female ? 0 : 1);
      const nnn = String(serial % 1000).padStart(3, '0');
      const day = coordination ? String(Number(iso.slice(8, 10)) + 60) : iso.slice(8, 10);
      const nine = iso.slice(2, 4) + iso.slice(5, 7) + day + nnn;
      const pin = `${iso.slice(0, 4)}${iso.slice(5, 7)}${day}${nnn}${luhnCheckDigit(nine)}`;
      if (!this.pins.has(pin)) {
        this.pins.add(pin);
        return pin;
      }
    }
  }

  private distance(p: Person): Distance {
    const t = p.traits;
    const score =
      t.mental +
      t.physical * 0.8 +
      (t.substance === 'active' ? 2 : t.substance === 'previous' ? 0.4 : 0) +
      (t.language ? 0.9 : 0) +
      (t.education === 'none' ? 0.8 : t.education === 'post_secondary' ? -0.4 : 0) +
      (t.previousWork === 'never' ? 0.9 : t.previousWork === 'under_1_year' ? 0.4 : t.previousWork === 'over_5_years' ? -0.3 : 0) +
      (this.ageOn(p, p.t) > 55 ? 0.8 : 0) -
      0.5 * t.motivation;
    return score < 1.2 ? 'close' : score < 2.8 ? 'medium' : 'far';
  }

  private ageOn(p: Person, day: number): number {
    return Number(isoOf(Math.floor(day)).slice(0, 4)) - p.birthYear;
  }

  private unitWeight(p: Person, unit: UnitCode): number {
    const t = p.traits;
    switch (unit) {
      case 'forsorjningsstod':
        return 3;
      case 'vuxenstod':
        return t.substance === 'active' ? 3 : t.mental === 2 ? 1.4 : t.substance === 'previous' ? 0.8 : 0.3;
      case 'arbete-och-integration':
        return t.language ? 2 : this.distance(p) === 'close' ? 1.6 : 0.4;
      case 'rehabilitering-och-utveckling':
        return t.mental === 2 || t.physical === 2 ? 1.8 : t.mental + t.physical > 0 ? 0.6 : 0.15;
    }
  }

  private caseworkerFor(p: Person): string {
    return p.rng.pick(this.caseworkers[p.unit]);
  }

  // -------------------------------------------------------------------------------------------
  // Life between rounds

  /** Runs the person's case forward to `until` (exclusive day). */
  private advance(p: Person, until: number): void {
    const rng = p.rng;
    for (;;) {
      const roundDay = p.nextRound < this.rounds.length ? dayOf(this.rounds[p.nextRound]!.referenceDate) : Number.POSITIVE_INFINITY;
      // The round is taken after everything else on its reference date, so "open on the
      // reference date" here means what the snapshot will say.
      const roundTime = roundDay + 0.999;
      const rates = this.rates(p);
      let next = roundTime;
      let what: 'round' | Happening | { end: Intervention } = 'round';
      for (const [event, perMonth] of rates) {
        const at = p.t + rng.exponential(perMonth / DAYS_PER_MONTH);
        if (at < next) {
          next = at;
          what = event;
        }
      }
      for (const i of p.running) {
        if (i.end + 0.5 < next) {
          next = i.end + 0.5;
          what = { end: i };
        }
      }
      if (next >= until || Math.floor(next) > this.today) {
        p.t = Math.max(p.t, until);
        return;
      }
      p.t = next;
      const day = Math.floor(next);
      if (what === 'round') {
        this.assess(p, p.nextRound);
        p.nextRound++;
      } else if (typeof what === 'object') {
        this.endIntervention(p, what.end, day, what.end.outcome);
      } else if (what === 'close') {
        this.close(p, day);
      } else if (what === 'reopen') {
        p.open = true;
        p.intervals.push([day, null]);
        p.unit = rng.weighted(UNIT_LIST.map((u) => [u, this.unitWeight(p, u)] as const));
        p.caseworker = this.caseworkerFor(p);
        this.emit(day, { command: 'ReopenCase', actor: p.caseworker, case: p.key, body: { unit: p.unit, effectiveDate: isoOf(day) } });
      } else if (what === 'transfer') {
        const toUnit = rng.weighted(UNIT_LIST.filter((u) => u !== p.unit).map((u) => [u, this.unitWeight(p, u)] as const));
        const actor = p.caseworker;
        p.unit = toUnit;
        p.caseworker = this.caseworkerFor(p);
        this.emit(day, {
          command: 'TransferCase',
          actor,
          case: p.key,
          body: { toUnit, effectiveDate: isoOf(day), ...(rng.chance(0.3) ? { reason: rng.pick(TRANSFER_REASONS) } : {}) },
        });
      } else if (what === 'priority') {
        this.emit(day, {
          command: 'SetPriority',
          actor: p.caseworker,
          case: p.key,
          body: { priority: this.priority(p), effectiveDate: isoOf(day), ...(rng.chance(0.5) ? { reason: rng.pick(PRIORITY_REASONS) } : {}) },
        });
      } else {
        this.startIntervention(p, what, day);
      }
    }
  }

  /** Poisson rates per month for what can happen next to this person's case. */
  private rates(p: Person): [Happening, number][] {
    if (!p.open) return [['reopen', 0.02]];
    const t = p.traits;
    const distance = this.distance(p);
    const changed = p.t >= this.changeDay;
    // Seed 004: women got less support, from the municipality and from Arbetsförmedlingen. The
    // new process aims interventions at women, which narrows (but does not close) the gap.
    const women = p.female ? (changed ? 0.75 : 0.45) : 1;
    const health = t.mental + t.physical > 0;
    const running = (type: InterventionType) => p.running.some((i) => i.type === type);
    const closing = (distance === 'close' ? 0.045 : distance === 'medium' ? 0.026 : 0.014) * (p.employerContactCompleted ? 1.6 : 1) * (t.sicknessApplication === 'granted' ? 1.4 : 1);
    const rates: [Happening, number][] = [
      ['close', closing],
      ['transfer', 0.017],
      ['priority', 0.012],
      ['rehabilitation', running('rehabilitation') || !health ? 0 : 0.05 * women * (p.unit === 'rehabilitering-och-utveckling' ? 2 : 1)],
      // The language-support coach was hired after the first measurement.
      ['language_coach', running('language_coach') || !t.language || !changed ? 0 : 0.09 * women],
      ['employer_contact', running('employer_contact') || distance === 'far' ? 0 : (changed ? 0.06 : 0.012) * women],
      ['work_practice', running('work_practice') || distance === 'far' ? 0 : 0.03 * women],
      ['study_guidance', running('study_guidance') || !(t.education === 'none' || t.education === 'compulsory') ? 0 : 0.02 * women],
      ['labour_market_programme', running('labour_market_programme') || t.employmentService !== 'registered' ? 0 : 0.03 * women * (p.female ? 0.7 : 1)],
      ['other', running('other') ? 0 : 0.008 * women],
    ];
    return rates;
  }

  private startIntervention(p: Person, type: InterventionType, day: number): void {
    const rng = p.rng;
    const provider = rng.weighted<InterventionProvider>(
      type === 'labour_market_programme'
        ? [['employment_service', 1]]
        : type === 'work_practice'
          ? [
              ['municipality', 0.6],
              ['employment_service', 0.4],
            ]
          : type === 'rehabilitation' || type === 'study_guidance'
            ? [
                ['municipality', 0.8],
                ['other', 0.2],
              ]
            : type === 'other'
              ? [
                  ['municipality', 0.5],
                  ['other', 0.5],
                ]
              : [['municipality', 1]],
    );
    p.interventionCount++;
    const intervention: Intervention = {
      key: `${p.key}/i${p.interventionCount}`,
      type,
      provider,
      start: day,
      end: day + rng.int(45, 240),
      outcome: rng.weighted<InterventionOutcome>([
        ['completed', 0.6],
        ['interrupted', 0.3],
        ['unknown', 0.1],
      ]),
    };
    p.running.push(intervention);
    this.emit(day, { command: 'StartIntervention', actor: p.caseworker, case: p.key, intervention: intervention.key, body: { type, provider, startDate: isoOf(day) } });
  }

  private endIntervention(p: Person, i: Intervention, day: number, outcome: InterventionOutcome): void {
    p.running = p.running.filter((r) => r !== i);
    const t = p.traits;
    if (outcome === 'completed') {
      if (i.type === 'employer_contact' || i.type === 'work_practice') p.employerContactCompleted = true;
      if (i.type === 'rehabilitation') {
        if (t.mental > 0 && p.rng.chance(0.35)) t.mental = (t.mental - 1) as Severity;
        if (t.physical > 0 && p.rng.chance(0.25)) t.physical = (t.physical - 1) as Severity;
      }
      if (i.type === 'language_coach' && p.rng.chance(0.35)) t.language = false;
      if ((i.type === 'labour_market_programme' || i.type === 'employer_contact') && t.employmentService !== 'registered') t.employmentService = 'registered';
      if (i.type === 'study_guidance' && p.rng.chance(0.3)) t.studies = true;
    }
    this.emit(day, { command: 'EndIntervention', actor: p.caseworker, case: p.key, intervention: i.key, body: { endDate: isoOf(day), outcome } });
  }

  private close(p: Person, day: number): void {
    const rng = p.rng;
    const distance = this.distance(p);
    const t = p.traits;
    const young = this.ageOn(p, day) < 25;
    const reason = rng.weighted<ClosureReason>(
      distance === 'close'
        ? [
            ['employment', 5 * (p.employerContactCompleted ? 1.5 : 1)],
            ['studies', young || t.studies ? 3 : 1.2],
            ['other_benefit', 0.5],
            ['moved', 1],
            ['other', 0.8],
            ['unknown', 0.5],
          ]
        : distance === 'medium'
          ? [
              ['employment', 2.5 * (p.employerContactCompleted ? 1.5 : 1)],
              ['studies', young || t.studies ? 2 : 1],
              ['other_benefit', 1.2 + (t.sicknessApplication === 'granted' ? 2 : 0)],
              ['moved', 1],
              ['other', 1],
              ['unknown', 0.7],
            ]
          : [
              ['employment', 0.5],
              ['studies', 0.4],
              ['other_benefit', 3 * (t.sicknessApplication === 'granted' || t.sicknessApplication === 'pending' ? 1.5 : 1)],
              ['moved', 1.2],
              ['other', 1.2],
              ['unknown', 1],
            ],
    );
    for (const i of [...p.running]) this.endIntervention(p, i, day, reason === 'employment' ? 'completed' : 'interrupted');
    p.open = false;
    p.intervals[p.intervals.length - 1]![1] = day;
    this.emit(day, { command: 'CloseCase', actor: p.caseworker, case: p.key, body: { reason, effectiveDate: isoOf(day) } });
  }

  // -------------------------------------------------------------------------------------------
  // Rounds

  private assess(p: Person, roundIndex: number): void {
    if (!p.open) return;
    const round = this.rounds[roundIndex]!;
    const rng = p.rng;
    const ref = dayOf(round.referenceDate);
    const day = roundIndex === 0 ? ref : ref + rng.int(0, LATER_ROUND_ASSESSMENT_DAYS);
    // Not yet assessed (the open round's remaining cases), or the round closed first.
    if (day > this.today || (round.closes && day >= dayOf(round.closes))) return;
    this.drift(p);
    const factor = UNKNOWN_FACTOR[Math.min(p.assessments, UNKNOWN_FACTOR.length - 1)]!;
    const truth = this.truth(p, day);
    const answers: Answers = {};
    const unknownKeys: string[] = [];
    for (const [key, value] of Object.entries(truth)) {
      const unknown = p.knowledge[key]! < BASE_UNKNOWN[key]! * factor;
      if (unknown) unknownKeys.push(key);
      answers[key] = unknown ? (Array.isArray(value) ? ['unknown'] : 'unknown') : value;
    }
    p.assessments++;
    this.emit(day, { command: 'RecordAssessment', actor: p.caseworker, case: p.key, body: { roundId: round.key, answers, effectiveDate: isoOf(day) } });
    this.emit(day, {
      command: 'SetPriority',
      actor: p.caseworker,
      case: p.key,
      body: { priority: this.priority(p), roundId: round.key, effectiveDate: isoOf(day), ...(rng.chance(0.08) ? { reason: rng.pick(PRIORITY_REASONS) } : {}) },
    });
    // Now and then a "vet ej" is filled in afterwards (a correction, kept beside the original).
    if (unknownKeys.length > 0 && rng.chance(0.06)) {
      const correctionDay = day + rng.int(3, 40);
      const key = rng.pick(unknownKeys);
      if (correctionDay <= this.today && correctionDay < this.periodUntil) {
        // Ahead of this person's clock: fine, a period's steps are sorted by date before use.
        this.emit(correctionDay, { command: 'CorrectAssessment', actor: p.caseworker, case: p.key, round: round.key, body: { answers: { [key]: truth[key]! }, reason: rng.pick(CORRECTION_REASONS) } });
      }
    }
    // Whatever else happens to the case happens after the assessment.
    p.t = Math.max(p.t, day + 1);
  }

  /** Half a year changes people a little, for better and for worse. */
  private drift(p: Person): void {
    const rng = p.rng;
    const t = p.traits;
    if (rng.chance(0.06) && t.mental < 2) t.mental = (t.mental + 1) as Severity;
    if (rng.chance(0.05) && t.physical < 2) t.physical = (t.physical + 1) as Severity;
    if (t.employmentService === 'registered' && rng.chance(t.mental === 2 || t.physical === 2 ? 0.15 : 0.07)) t.employmentService = 'deregistered_last_12_months';
    else if (t.employmentService === 'deregistered_last_12_months' && rng.chance(0.25)) t.employmentService = 'registered';
    if (t.sicknessApplication === 'pending') t.sicknessApplication = rng.weighted<SicknessApplication>([['pending', 0.3], ['rejected', 0.45], ['granted', 0.25]]);
    if (t.sickCertificate && t.sicknessApplication === 'not_applied' && rng.chance(0.3)) t.sicknessApplication = 'pending';
    if (t.substance === 'active' && rng.chance(0.15)) t.substance = 'previous';
    t.partTimeWork = rng.chance(t.partTimeWork ? 0.7 : 0.05);
  }

  private priority(p: Person): Priority {
    const distance = this.distance(p);
    // Caseworkers differ a little in how they prioritise (the consistency report looks for it).
    const bias = ((Number(p.caseworker.slice(-2)) * 7) % 5) / 10 - 0.2;
    const score = (distance === 'close' ? 2 : distance === 'medium' ? 1 : 0) + 0.4 * p.traits.motivation + bias + 0.5 * p.rng.normal();
    return score > 1.7 ? 'high' : score > 0.5 ? 'medium' : 'low';
  }

  /** What a caseworker who knew everything would answer on `day`. */
  private truth(p: Person, day: number): Record<string, AnswerValue> {
    const t = p.traits;
    const running = p.running.filter((i) => i.start <= day);
    const health = (s: Severity) => (s === 0 ? 'no_problems' : s === 1 ? 'some_problems' : 'severe_problems');
    const obstacles = [
      ...(t.physical > 0 ? ['physical_health'] : []),
      ...(t.mental > 0 ? ['mental_health'] : []),
      ...(t.substance === 'active' || (t.substance === 'previous' && p.knowledge.substanceAbuse! < 0.2) ? ['substance_abuse'] : []),
      ...(t.language ? ['language'] : []),
      ...(t.childcareProblem ? ['childcare'] : []),
      ...(t.housingProblem ? ['housing'] : []),
      ...(t.otherObstacle ? ['other'] : []),
    ];
    const activity = [
      ...(t.studies ? ['studies'] : []),
      ...(running.some((i) => i.provider === 'municipality' && (i.type === 'work_practice' || i.type === 'labour_market_programme' || i.type === 'employer_contact')) ? ['municipal_programme'] : []),
      ...(running.some((i) => i.provider === 'employment_service') ? ['employment_service_programme'] : []),
      ...(running.some((i) => i.type === 'rehabilitation') ? ['rehabilitation'] : []),
      ...(t.partTimeWork ? ['part_time_work'] : []),
      ...(running.some((i) => i.type === 'other') ? ['other'] : []),
    ];
    const benefits = [
      ...(t.sicknessApplication === 'granted' ? ['sickness_benefit'] : []),
      ...(running.some((i) => i.provider === 'employment_service') ? ['activity_support'] : []),
      ...(p.children > 0 && p.knowledge.otherBenefits! < 0.6 ? ['housing_allowance'] : []),
      ...(p.female && p.children > 0 && p.knowledge.otherBenefits! < 0.5 ? ['maintenance_support'] : []),
      ...(p.knowledge.otherBenefits! > 0.96 ? ['other'] : []),
    ];
    const support = [
      ...(t.socialServices ? ['social_services'] : []),
      ...(t.physical > 0 || (t.mental === 1 && p.knowledge.otherSupport! < 0.5) ? ['healthcare'] : []),
      ...(t.mental === 2 && p.knowledge.otherSupport! < 0.75 ? ['psychiatry'] : []),
      ...(t.substance === 'active' && p.knowledge.otherSupport! < 0.8 ? ['addiction_care'] : []),
      ...(p.knowledge.otherSupport! > 0.97 ? ['other'] : []),
    ];
    const orNone = (codes: string[]) => (codes.length > 0 ? codes : ['none']);
    return {
      education: t.education,
      previousWork: t.previousWork,
      workObstacles: orNone(obstacles),
      physicalHealth: health(t.physical),
      mentalHealth: health(t.mental),
      substanceAbuse: t.substance,
      sickCertificate: t.sickCertificate ? 'yes' : 'no',
      sicknessBenefitApplication: t.sicknessApplication,
      currentActivity: orNone(activity),
      registeredWithEmploymentService: t.employmentService,
      otherBenefits: orNone(benefits),
      otherSupport: orNone(support),
      languageSupportNeeded: t.language ? 'yes' : 'no',
      distanceToLabourMarket: this.distance(p),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Benefit months

  /** Months whose record day (the first of the next month) lies in [from, until) and not after today. */
  private benefitMonths(p: Person, from: number, until: number): void {
    for (;;) {
      const m = p.nextBenefitMonth;
      const recordDay = firstDayOfMonth(m + 1);
      if (recordDay >= until || recordDay > this.today) return;
      p.nextBenefitMonth++;
      if (recordDay < from) continue;
      if (!this.openDuring(p, firstDayOfMonth(m), recordDay)) {
        p.breakLeft = 0;
        continue;
      }
      if (!this.paidThisMonth(p)) continue;
      this.recordMonth(p, recordDay, m);
      // Rarely a month is recorded by mistake and withdrawn (a correction event).
      if (p.rng.chance(0.004) && recordDay + 10 < until && recordDay + 10 <= this.today) {
        this.emit(recordDay + 10, { command: 'WithdrawBenefitMonth', actor: BENEFIT_IMPORT_ACTOR, case: p.key, month: monthString(m) });
      }
    }
  }

  /** A payment pattern with breaks: most months paid, now and then a pause of one to nine months. */
  private paidThisMonth(p: Person): boolean {
    if (p.breakLeft > 0) {
      p.breakLeft--;
      return false;
    }
    if (p.rng.chance(0.025)) {
      p.breakLeft = p.rng.weighted([
        [0, 3],
        [1, 2],
        [2, 2],
        [3, 1],
        [5, 1],
        [7, 0.6],
      ]);
      return false;
    }
    return p.rng.chance(p.paidShare);
  }

  private recordMonth(p: Person, day: number, month: number): void {
    this.emit(day, { command: 'RecordBenefitMonth', actor: BENEFIT_IMPORT_ACTOR, case: p.key, month: monthString(month) });
  }

  private openDuring(p: Person, from: number, until: number): boolean {
    return p.intervals.some(([a, b]) => a < until && (b === null || b > from));
  }
}

type Happening = 'close' | 'transfer' | 'reopen' | 'priority' | InterventionType;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

// ---------------------------------------------------------------------------------------------
// Days and months as integers (days since 1970-01-01, months since year 0), in UTC: calendar
// arithmetic only, no time zones involved.

export function dayOf(iso: string): number {
  return Math.round(Date.parse(`${iso}T00:00:00Z`) / 86_400_000);
}

export function isoOf(day: number): string {
  return new Date(day * 86_400_000).toISOString().slice(0, 10);
}

function monthOfDay(day: number): number {
  const iso = isoOf(day);
  return Number(iso.slice(0, 4)) * 12 + Number(iso.slice(5, 7)) - 1;
}

function firstDayOfMonth(month: number): number {
  return Math.round(Date.UTC(Math.floor(month / 12), month % 12, 1) / 86_400_000);
}

function monthString(month: number): string {
  return `${Math.floor(month / 12)}-${String((month % 12) + 1).padStart(2, '0')}`;
}

/** Same day of month `months` later (clamped to the month's end). */
function addMonthsToDay(day: number, months: number): number {
  const d = new Date(day * 86_400_000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  return Math.round(Date.UTC(y, m, Math.min(d.getUTCDate(), last)) / 86_400_000);
}
