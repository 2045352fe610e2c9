import { QUESTIONNAIRE_V1, type Answers } from '../../../src/questionnaires/questionnaire.js';
import { makePersonnummer } from '../../support/personnummer.js';
import type { TestApp } from '../../support/test-app.js';

export const CODE = '2281';

/**
 * The story the browser tests look at, seeded through the public HTTP API like any client:
 * 15 people registered in Försörjningsstöd in January 2025; round 2025-H1 (reference date
 * 2025-06-30) assessed for all of them; then 5 move to Vuxenstöd, 5 leave for work, and 5 new
 * people arrive in Arbete och Integration; round 2025-H2 (2025-12-31) is left open for the
 * caseworker in the browser.
 *
 * So the flow 2025-H1 → 2025-H2 is exactly: Försörjningsstöd → Försörjningsstöd 5, →
 * Vuxenstöd 5, → closed (employment) 5, new → Arbete och Integration 5; 20 in all. Every cell
 * is at least 5, so nothing is hidden from a process owner.
 */
export interface Story {
  roundA: { id: string; label: string };
  roundB: { id: string; label: string };
  stayed: string[];
  moved: string[];
  closed: string[];
  newcomers: string[];
  position: number;
}

export class Seeder {
  position = 0;
  constructor(private readonly t: TestApp) {}

  private async call(method: 'post' | 'put' | 'get', path: string, token: string, body?: object, expected = [200, 201]) {
    const req = this.t.http()[method](`/api/v1/municipalities/${CODE}${path}`).set('authorization', `Bearer ${token}`);
    const r = body ? await req.send(body) : await req;
    if (!expected.includes(r.status)) throw new Error(`${method.toUpperCase()} ${path} answered ${r.status}: ${JSON.stringify(r.body)}`);
    const p = Number(r.headers['x-event-position'] ?? 0);
    if (p > this.position) this.position = p;
    return r;
  }

  tokens = async () => ({
    cw: await this.t.token('caseworker', [CODE], 'seed-caseworker'),
    po: await this.t.token('process_owner', [CODE], 'seed-process-owner'),
  });

  async openRound(po: string, label: string, referenceDate: string): Promise<{ id: string; label: string }> {
    const r = await this.call('post', '/rounds', po, { label, referenceDate, questionnaireVersion: 1 });
    return { id: r.body.id, label };
  }

  async register(cw: string, serial: number, unit: string, effectiveDate: string): Promise<string> {
    const birth = `19${60 + (serial % 35)}-0${1 + (serial % 9)}-1${serial % 9}`;
    const r = await this.call('post', '/cases', cw, {
      personalIdentityNumber: makePersonnummer(birth, 100 + serial),
      gender: serial % 2 === 0 ? 'female' : 'male',
      bornAbroad: serial % 3 === 0 ? 'yes' : 'no',
      childrenInHousehold: serial % 4,
      unit,
      effectiveDate,
    });
    return r.body.id as string;
  }

  async assess(cw: string, caseId: string, roundId: string, i: number, priority = (['high', 'medium', 'low'] as const)[i % 3]): Promise<void> {
    await this.call('post', `/cases/${caseId}/assessments`, cw, { roundId, answers: answersFor(i) });
    await this.call('post', `/cases/${caseId}/prioritisations`, cw, { roundId, priority });
  }

  async command(cw: string, caseId: string, path: string, body: object): Promise<void> {
    await this.call('post', `/cases/${caseId}${path}`, cw, body);
  }

  async closeRound(po: string, roundId: string): Promise<void> {
    await this.call('post', `/rounds/${roundId}/close`, po, {});
  }

  async seedStory(): Promise<Story> {
    const { cw, po } = await this.tokens();
    const first: string[] = [];
    for (let i = 0; i < 15; i++) first.push(await this.register(cw, i, 'forsorjningsstod', '2025-01-15'));
    const roundA = await this.openRound(po, '2025-H1', '2025-06-30');
    for (const [i, id] of first.entries()) await this.assess(cw, id, roundA.id, i);
    const [stayed, moved, closed] = [first.slice(0, 5), first.slice(5, 10), first.slice(10, 15)];
    for (const id of moved) await this.command(cw, id, '/transfers', { toUnit: 'vuxenstod', effectiveDate: '2025-08-01' });
    for (const id of closed) await this.command(cw, id, '/close', { reason: 'employment', effectiveDate: '2025-09-15' });
    const newcomers: string[] = [];
    for (let i = 15; i < 20; i++) newcomers.push(await this.register(cw, i, 'arbete-och-integration', '2025-10-01'));
    // A little history on one case for the case page: an intervention and benefit months.
    await this.command(cw, stayed[0]!, '/interventions', { type: 'language_coach', provider: 'municipality', startDate: '2025-03-01' });
    for (const month of ['2025-01', '2025-02', '2025-03']) await this.call('put', `/cases/${stayed[0]}/benefit-months/${month}`, cw);
    const roundB = await this.openRound(po, '2025-H2', '2025-12-31');
    return { roundA, roundB, stayed, moved, closed, newcomers, position: this.position };
  }
}

/** Varied answers, a few "Vet ej", so statistics and crosstabs have something to show. */
export function answersFor(i: number): Answers {
  const a: Answers = {};
  for (const [qi, q] of QUESTIONNAIRE_V1.questions.entries()) {
    const opts = q.options.filter((o) => o.code !== 'unknown' && o.code !== 'none').map((o) => o.code);
    const pick = opts[(i + qi) % opts.length]!;
    const unknown = (i + qi) % 5 === 0;
    a[q.key] = q.type === 'multi' ? (unknown ? ['unknown'] : [pick]) : unknown ? 'unknown' : pick;
  }
  return a;
}
