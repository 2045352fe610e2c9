import { createHash } from 'node:crypto';
import type { CaseState } from '../cases/case.decider.js';
import { durationCategories, type DurationCategory } from '../reports/benefit-duration.js';
import { parsePersonalIdentityNumber } from '../shared/privacy/personal-identity-number.js';
import { UNIT_CODES } from '../units/units.js';
import { MunicipalityGenerator, generateTimeline, planRounds, type MunicipalityOptions } from './municipality.generator.js';
import type { TimelineStep } from './timeline.js';
import { TimelinePlayer } from './timeline.player.js';

const TODAY = '2026-05-20';
const OPTIONS: MunicipalityOptions = { seed: 2281, municipality: '2281', today: TODAY, rounds: 3, openCases: 270 };

type Step<C extends TimelineStep['command']> = Extract<TimelineStep, { command: C }>;
const of = <C extends TimelineStep['command']>(steps: TimelineStep[], command: C) => steps.filter((s): s is Step<C> => s.command === command);
const share = (n: number, d: number) => (d === 0 ? 0 : n / d);

async function play(steps: TimelineStep[]) {
  let ids = 0;
  const player = new TimelinePlayer({
    municipality: '2281',
    pseudonym: (pin) => `p${createHash('sha256').update(pin).digest('hex').slice(0, 24)}`,
    seal: (pseudonym, text) => `sealed:${pseudonym}:${text}`,
    newId: () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`,
  });
  const events = [];
  for (const step of steps) {
    const played = await player.play(step);
    events.push({ step, played });
  }
  return { player, events };
}

describe('demo municipality generator', () => {
  const timeline = generateTimeline(OPTIONS);
  let played: Awaited<ReturnType<typeof play>>;
  beforeAll(async () => {
    played = await play(timeline);
  });

  it('is deterministic: the same seed gives the same timeline, another seed another', () => {
    const again = generateTimeline(OPTIONS);
    expect(JSON.stringify(again)).toBe(JSON.stringify(timeline));
    const other = generateTimeline({ ...OPTIONS, seed: 2282 });
    expect(JSON.stringify(other)).not.toBe(JSON.stringify(timeline));
    // Another municipality with the same seed is another set of people.
    expect(of(generateTimeline({ ...OPTIONS, municipality: '2262' }), 'RegisterCase')[0]!.body).not.toEqual(of(timeline, 'RegisterCase')[0]!.body);
  });

  it('every command is accepted by the deciders and records something', () => {
    expect(played.events).toHaveLength(timeline.length);
    const silent = played.events.filter((e) => e.played.events.length === 0).map((e) => `${e.step.at} ${e.step.command}`);
    expect(silent).toEqual([]);
  });

  it('is in date order, never after today, in periods that tile the time', () => {
    const dates = timeline.map((s) => s.at);
    expect(dates).toEqual([...dates].sort());
    expect(dates[dates.length - 1]! <= TODAY).toBe(true);
    const periods = [...new MunicipalityGenerator(OPTIONS).periods()];
    expect(periods.map((p) => p.name)).toEqual(['setup', ...planRounds(OPTIONS).map((r) => r.label)]);
    for (const p of periods) for (const s of p.steps) expect(s.at >= p.from && s.at < p.to).toBe(true);
    for (let i = 1; i < periods.length; i++) expect(periods[i]!.from).toBe(periods[i - 1]!.to);
  });

  it('has two closed rounds and one open, half a year apart, each named after its half year', () => {
    const rounds = planRounds(OPTIONS);
    expect(rounds.map((r) => [r.label, r.referenceDate, r.closes !== null])).toEqual([
      ['2025-H1', '2025-05-10', true],
      ['2025-H2', '2025-11-10', true],
      ['2026-H1', '2026-05-10', false],
    ]);
    expect(of(timeline, 'OpenRound')).toHaveLength(3);
    expect(of(timeline, 'CloseRound').map((s) => s.round)).toEqual(['2025-H1', '2025-H2']);
  });

  it('registers about 270 people on the registration day with valid, distinct personnummer aged 18–64', () => {
    const registered = of(timeline, 'RegisterCase');
    const pins = registered.map((r) => r.body.personalIdentityNumber);
    expect(new Set(pins).size).toBe(pins.length);
    for (const r of registered) {
      const parsed = parsePersonalIdentityNumber(r.body.personalIdentityNumber, r.at);
      expect(parsed.ok).toBe(true);
      if (!parsed.ok) continue;
      const age = Number(r.at.slice(0, 4)) - parsed.value.birthYear;
      expect(age).toBeGreaterThanOrEqual(18);
      expect(age).toBeLessThanOrEqual(65); // 64 on the day; the calendar year can say 65
      // The gender digit agrees with the recorded gender.
      const odd = Number(r.body.personalIdentityNumber[10]) % 2 === 1;
      if (r.body.gender === 'female') expect(odd).toBe(false);
      if (r.body.gender === 'male') expect(odd).toBe(true);
    }
    const firstRound = of(timeline, 'RecordAssessment').filter((s) => s.body.roundId === '2025-H1');
    expect(firstRound).toHaveLength(270);
    // The registration day is one day.
    expect(new Set(firstRound.map((s) => s.at)).size).toBe(1);
  });

  it('keeps about 270 cases open at every reference date, spread over the four units', () => {
    for (const round of planRounds(OPTIONS)) {
      const open = openOn(played.player, round.referenceDate);
      expect(open.length).toBeGreaterThan(220);
      expect(open.length).toBeLessThan(330);
      for (const unit of UNIT_CODES) expect(share(open.filter((u) => u === unit).length, open.length)).toBeGreaterThan(0.08);
    }
  });

  it('has background distributions like a Swedish long-term caseload', () => {
    const registered = of(timeline, 'RegisterCase').map((s) => s.body);
    const n = registered.length;
    expect(share(registered.filter((b) => b.gender === 'female').length, n)).toBeGreaterThan(0.38);
    expect(share(registered.filter((b) => b.gender === 'female').length, n)).toBeLessThan(0.56);
    expect(share(registered.filter((b) => b.bornAbroad === 'yes').length, n)).toBeGreaterThan(0.35);
    expect(share(registered.filter((b) => b.bornAbroad === 'yes').length, n)).toBeLessThan(0.58);
    expect(share(registered.filter((b) => typeof b.childrenInHousehold === 'number' && b.childrenInHousehold > 0).length, n)).toBeGreaterThan(0.2);
    expect(registered.some((b) => b.childrenInHousehold === 'unknown')).toBe(true);
    expect(registered.some((b) => b.bornAbroad === 'unknown')).toBe(true);
  });

  it('answers tell the seed story: mental ill-health the most common obstacle, refusals despite a certificate, AF deregistrations', () => {
    for (const round of planRounds(OPTIONS)) {
      const answers = of(timeline, 'RecordAssessment').filter((s) => s.body.roundId === round.key).map((s) => s.body.answers);
      const counts = new Map<string, number>();
      for (const a of answers) for (const code of a.workObstacles as string[]) counts.set(code, (counts.get(code) ?? 0) + 1);
      const ranked = [...counts.entries()].filter(([code]) => code !== 'unknown' && code !== 'none').sort((a, b) => b[1] - a[1]);
      expect(ranked[0]![0]).toBe('mental_health');
      expect(ranked[1]![0]).toBe('physical_health');
      const certified = answers.filter((a) => a.sickCertificate === 'yes');
      expect(share(certified.filter((a) => a.sicknessBenefitApplication === 'rejected').length, certified.length)).toBeGreaterThan(0.25);
      expect(share(answers.filter((a) => a.registeredWithEmploymentService === 'deregistered_last_12_months').length, answers.length)).toBeGreaterThan(0.1);
      const abuse = share(answers.filter((a) => a.substanceAbuse === 'active').length, answers.length);
      expect(abuse).toBeGreaterThan(0.01);
      expect(abuse).toBeLessThan(0.12);
    }
  });

  it('answers correlate: language needs go with being born abroad, severe mental ill-health with a far distance', () => {
    const registered = new Map(of(timeline, 'RegisterCase').map((s) => [s.case, s.body]));
    const assessments = of(timeline, 'RecordAssessment').filter((s) => s.body.roundId === '2025-H2');
    const language = (abroad: string) => {
      const group = assessments.filter((s) => registered.get(s.case)!.bornAbroad === abroad && s.body.answers.languageSupportNeeded !== 'unknown');
      return share(group.filter((s) => s.body.answers.languageSupportNeeded === 'yes').length, group.length);
    };
    expect(language('yes')).toBeGreaterThan(0.3);
    expect(language('no')).toBeLessThan(0.08);
    const far = (mental: string) => {
      const group = assessments.filter((s) => s.body.answers.mentalHealth === mental && s.body.answers.distanceToLabourMarket !== 'unknown');
      return share(group.filter((s) => s.body.answers.distanceToLabourMarket === 'far').length, group.length);
    };
    expect(far('severe_problems')).toBeGreaterThan(far('no_problems') + 0.2);
  });

  it('says "vet ej" most in the first round and less in every later one', () => {
    const unknownShare = planRounds(OPTIONS).map((round) => {
      const answers = of(timeline, 'RecordAssessment').filter((s) => s.body.roundId === round.key).flatMap((s) => Object.values(s.body.answers));
      return share(answers.filter((v) => v === 'unknown' || (Array.isArray(v) && v[0] === 'unknown')).length, answers.length);
    });
    expect(unknownShare[0]).toBeGreaterThan(0.1);
    expect(unknownShare[0]).toBeLessThan(0.3);
    expect(unknownShare[1]).toBeLessThan(unknownShare[0]! * 0.8);
    expect(unknownShare[2]).toBeLessThan(unknownShare[1]!);
    expect(of(timeline, 'CorrectAssessment').length).toBeGreaterThan(5);
  });

  it('sets all three priorities in every round', () => {
    for (const round of planRounds(OPTIONS)) {
      const priorities = of(timeline, 'SetPriority').filter((s) => s.body.roundId === round.key).map((s) => s.body.priority);
      for (const p of ['high', 'medium', 'low'] as const) expect(share(priorities.filter((x) => x === p).length, priorities.length)).toBeGreaterThan(0.1);
    }
  });

  it('moves people: transfers, closures with every reason, reopenings, new cases between rounds', () => {
    expect(of(timeline, 'TransferCase').length).toBeGreaterThan(30);
    const reasons = new Set(of(timeline, 'CloseCase').map((s) => s.body.reason));
    expect([...reasons].sort()).toEqual(['employment', 'moved', 'other', 'other_benefit', 'studies', 'unknown']);
    expect(of(timeline, 'ReopenCase').length).toBeGreaterThan(0);
    const firstReference = planRounds(OPTIONS)[0]!.referenceDate;
    const newCases = of(timeline, 'RegisterCase').filter((s) => s.at > firstReference);
    expect(newCases.length).toBeGreaterThan(40);
    expect(of(timeline, 'WithdrawBenefitMonth').length).toBeGreaterThan(0);
  });

  it('has the new interventions, and women get fewer interventions than men', () => {
    const types = new Set(of(timeline, 'StartIntervention').map((s) => s.body.type));
    for (const t of ['language_coach', 'employer_contact', 'rehabilitation', 'work_practice', 'labour_market_programme'] as const) expect(types.has(t)).toBe(true);
    const gender = new Map(of(timeline, 'RegisterCase').map((s) => [s.case, s.body.gender]));
    const perPerson = (g: string) => {
      const people = [...gender.values()].filter((x) => x === g).length;
      return share(of(timeline, 'StartIntervention').filter((s) => gender.get(s.case) === g).length, people);
    };
    expect(perPerson('female')).toBeLessThan(perPerson('male') * 0.85);
    // Language coach and employer contact arrive with the new process, after the first round.
    const first = planRounds(OPTIONS)[0]!.referenceDate;
    expect(of(timeline, 'StartIntervention').filter((s) => s.body.type === 'language_coach' && s.at <= first)).toEqual([]);
  });

  it('has benefit months back ten years, so every duration category occurs', () => {
    const months = of(timeline, 'RecordBenefitMonth').map((s) => s.month).sort();
    expect(months[0]! <= '2016-05').toBe(true);
    const baseYear = Number(TODAY.slice(0, 4)) - 1;
    const counts: Record<DurationCategory, number> = { long_term: 0, very_long_term: 0, five_year: 0, ten_year: 0 };
    for (const key of played.player.caseKeys()) {
      const state = played.player.caseState(key)!;
      if (state.status === 'not_registered') continue;
      for (const c of durationCategories(state.benefitMonths, baseYear)) counts[c]++;
    }
    expect(counts.long_term).toBeGreaterThan(100);
    expect(counts.very_long_term).toBeGreaterThan(40);
    expect(counts.five_year).toBeGreaterThan(20);
    expect(counts.ten_year).toBeGreaterThan(5);
    expect(counts.long_term).toBeGreaterThan(counts.very_long_term);
    expect(counts.very_long_term).toBeGreaterThan(counts.five_year);
    expect(counts.five_year).toBeGreaterThan(counts.ten_year);
  });

  it('scales: a larger municipality over ten years keeps its size and stays valid', async () => {
    const options = { ...OPTIONS, seed: 7, openCases: 120, rounds: 20, lastRoundOpen: false };
    const steps = generateTimeline(options);
    const { player } = await play(steps);
    for (const round of planRounds(options)) {
      const open = openOn(player, round.referenceDate).length;
      expect(open).toBeGreaterThan(90);
      expect(open).toBeLessThan(170);
    }
    expect(of(steps, 'CloseRound')).toHaveLength(20);
  });
});

/** The unit of every case open on `date` (as the decided state says). */
function openOn(player: TimelinePlayer, date: string): string[] {
  const units: string[] = [];
  for (const key of player.caseKeys()) {
    const state: CaseState = player.caseState(key)!;
    if (state.status === 'not_registered') continue;
    let period;
    for (const p of state.periods) if (p.from <= date) period = p;
    if (period?.status === 'open') units.push(period.unit);
  }
  return units;
}
