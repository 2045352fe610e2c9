import { CommandBus } from '@nestjs/cqrs';
import { RecordBenefitMonthsCommand } from '../../src/cases/benefit-months/record-benefit-months.command.js';
import type { CaseCommandOutcome } from '../../src/cases/case.repository.js';
import { RegisterCaseCommand } from '../../src/cases/register-case/register-case.command.js';
import { makePersonnummer } from '../support/personnummer.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

/** Many benefit months of one case in one command: the per-month events, one append, all or nothing. */
describe('RecordBenefitMonthsCommand', () => {
  let t: TestApp;
  let bus: CommandBus;
  let caseId: string;
  const meta = { municipality: '2281', actor: 'test-caseworker' };
  const months = async () => (await t.pool.query(`SELECT data->>'month' AS m FROM events WHERE stream_id = $1 AND type = 'BenefitMonthRecorded' ORDER BY version`, [`case-2281-${caseId}`])).rows.map((r) => r.m);

  beforeAll(async () => {
    t = await startTestApp({ label: 'months' });
    bus = t.running.app.get(CommandBus);
    const registered = await bus.execute<RegisterCaseCommand, CaseCommandOutcome>(
      new RegisterCaseCommand(meta, { personalIdentityNumber: makePersonnummer('1980-04-02', 124), gender: 'female', bornAbroad: 'no', childrenInHousehold: 1, unit: 'forsorjningsstod', effectiveDate: '2020-01-01' }),
    );
    caseId = registered.caseId;
  });
  afterAll(() => t?.close());

  it('records each new month once, in the order given, in one append', async () => {
    const outcome = await bus.execute<RecordBenefitMonthsCommand, CaseCommandOutcome>(new RecordBenefitMonthsCommand({ ...meta, caseId, months: ['2019-11', '2019-12', '2019-11', '2020-01'] }));
    expect(outcome.recorded.map((e) => (e.data as { month: string }).month)).toEqual(['2019-11', '2019-12', '2020-01']);
    expect(outcome.version).toBe(4);
    expect(await months()).toEqual(['2019-11', '2019-12', '2020-01']);
    // One transaction: the three events were recorded at the same instant.
    const { rows } = await t.pool.query(`SELECT count(DISTINCT recorded_at) AS n FROM events WHERE stream_id = $1 AND type = 'BenefitMonthRecorded'`, [`case-2281-${caseId}`]);
    expect(Number(rows[0].n)).toBe(1);
    // Months already recorded add nothing.
    const again = await bus.execute<RecordBenefitMonthsCommand, CaseCommandOutcome>(new RecordBenefitMonthsCommand({ ...meta, caseId, months: ['2019-12', '2020-01'] }));
    expect(again.recorded).toEqual([]);
  });

  it('writes nothing when one month is refused', async () => {
    await expect(bus.execute(new RecordBenefitMonthsCommand({ ...meta, caseId, months: ['2020-02', '2999-01'] }))).rejects.toMatchObject({ kind: 'validation' });
    expect(await months()).toEqual(['2019-11', '2019-12', '2020-01']);
  });
});
