import { useEffect, useState } from 'react';
import { api, m } from '../api/client';
import { type List, type Questionnaire, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { answerText } from '../assessment/answers';
import { Select } from '../components/action-form';
import { Chart } from '../components/chart';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { BACKGROUND_KEYS, backgroundValueLabel, formatCount, formatPercent } from '../i18n/sv';
import { biggestChanges, crosstabGrid, formatPoints, type CompareItem, type Count, type CrosstabResult, type GroupStat, type QuestionStat, type RoundStatistics } from '../statistics/stats-model';
import { chronological, previousRound } from './rounds';

const count = (c: Count | undefined) => formatCount(c?.count ?? 0, c?.suppressed);

export function StatisticsPage() {
  const { code, session } = useSignedIn();
  const rounds = useLoad(() => api<List<Round>>(m(code, '/rounds')).then((r) => chronological(r.data.items)), [code]);
  const [roundId, setRoundId] = useState('');
  useEffect(() => {
    if (rounds.data?.length && !roundId) setRoundId(rounds.data[rounds.data.length - 1]!.id);
  }, [rounds.data, roundId]);
  const round = rounds.data?.find((r) => r.id === roundId);
  const questionnaire = useLoad(round ? () => api<Questionnaire>(m(code, `/questionnaires/${round.questionnaireVersion}`)).then((r) => r.data) : null, [code, round?.questionnaireVersion]);
  const stats = useLoad(
    round ? () => api<RoundStatistics>(m(code, `/rounds/${round.id}/statistics`), { query: { by: 'gender,unit' } }).then((r) => r.data) : null,
    [code, round?.id],
  );
  const previous = round && rounds.data ? previousRound(rounds.data, round.id) : undefined;
  const exact = session.roles.includes('caseworker');

  return (
    <>
      <PageTitle title="Statistik per mätomgång" />
      <p className="lead">Fördelning av svaren, andelen ”vet ej” och skillnader mellan kvinnor och män och mellan enheter.</p>
      {!exact && <p className="hint">Små tal (1–4) visas inte, så att ingen kan pekas ut.</p>}
      {rounds.loading && !rounds.data && <Loading />}
      <ErrorMessage error={rounds.error} />
      {rounds.data?.length === 0 && <p>Det finns inga mätomgångar ännu.</p>}
      {rounds.data && rounds.data.length > 0 && (
        <div className="filters" role="group" aria-label="Välj omgång">
          <Select id="stats-round" label="Mätomgång" value={roundId} onChange={setRoundId} options={[...rounds.data].reverse().map((r) => ({ value: r.id, label: `${r.label} (${r.referenceDate})` }))} />
        </div>
      )}
      <nav aria-label="På den här sidan" className="toc">
        <ul>
          <li>
            <a href="#questions-heading">Frågor</a>
          </li>
          <li>
            <a href="#crosstab-heading">Korstabell</a>
          </li>
          <li>
            <a href="#compare-heading">Jämförelse med föregående omgång</a>
          </li>
          <li>
            <a href="#duration-heading">Biståndets varaktighet</a>
          </li>
        </ul>
      </nav>
      {stats.loading && !stats.data && <Loading what="Beräknar statistiken…" />}
      <ErrorMessage error={stats.error} />
      {stats.data && questionnaire.data && (
        <section aria-labelledby="questions-heading">
          <h2 id="questions-heading">Frågor{stats.data.assessed !== null ? ` (${stats.data.assessed} bedömda ärenden)` : ''}</h2>
          <Totals totals={stats.data.totals} />
          <UnknownOverview stats={stats.data.questions} />
          {stats.data.questions.map((s) => (
            <QuestionSection key={s.key} s={s} />
          ))}
        </section>
      )}
      {round && questionnaire.data && <CrosstabBuilder code={code} roundId={round.id} questionnaire={questionnaire.data} />}
      {round && <Compare code={code} round={round} previous={previous} />}
      <BenefitDuration code={code} defaultYear={round ? Number(round.referenceDate.slice(0, 4)) : new Date().getFullYear()} />
    </>
  );
}

function Totals({ totals }: { totals: RoundStatistics['totals'] }) {
  const keys = Object.keys(totals).filter((k) => totals[k]!.length > 0);
  if (keys.length === 0) return null;
  return (
    <div className="layout-cards">
      {keys.map((k) => (
        <DataTable
          key={k}
          caption={`Ärenden per ${(BACKGROUND_KEYS[k] ?? k).toLowerCase()}`}
          rows={totals[k]!}
          rowKey={(c) => c.value}
          columns={[
            { key: 'value', header: BACKGROUND_KEYS[k] ?? k, rowHeader: true, render: (c) => c.label },
            { key: 'count', header: 'Antal', numeric: true, render: (c) => count(c) },
          ]}
        />
      ))}
    </div>
  );
}

function UnknownOverview({ stats }: { stats: QuestionStat[] }) {
  return (
    <section aria-labelledby="unknown-heading">
      <h3 id="unknown-heading">Andel ”vet ej” per fråga</h3>
      <p className="hint">Det tjänsten inte vet är också kunskap: en hög andel visar var underlaget behöver bli bättre.</p>
      <div className="chart-with-table">
        <Chart
          height={Math.max(260, stats.length * 26)}
          label={`Stapeldiagram över andelen vet ej för ${stats.length} frågor. Värdena finns i tabellen.`}
          option={{
            grid: { left: 230, right: 40, top: 10, bottom: 30 },
            xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
            yAxis: { type: 'category', inverse: true, data: stats.map((s) => s.label), axisLabel: { width: 220, overflow: 'truncate' } },
            series: [{ type: 'bar', data: stats.map((s) => s.unknownShare ?? '-') }],
          }}
        />
        <DataTable
          caption="Andel vet ej"
          rows={stats}
          rowKey={(s) => s.key}
          columns={[
            { key: 'label', header: 'Fråga', rowHeader: true },
            { key: 'share', header: 'Vet ej', numeric: true, render: (s) => formatPercent(s.unknownShare) },
          ]}
        />
      </div>
    </section>
  );
}

function QuestionSection({ s }: { s: QuestionStat }) {
  const byKeys = Object.keys(s.by ?? {}).filter((k) => (s.by[k] ?? []).length > 0);
  return (
    <section aria-labelledby={`stat-${s.key}`} className="question-stats">
      <h3 id={`stat-${s.key}`}>
        {s.label} <span className="unknown-share">Vet ej: {formatPercent(s.unknownShare)}</span>
      </h3>
      {s.type === 'multi' && <p className="hint">Flera svar möjliga: andelen är andelen bedömda som valde alternativet.</p>}
      <div className="chart-with-table">
        <Chart
          height={Math.max(200, s.options.length * 30)}
          label={`Stapeldiagram: fördelning av svaren på frågan ${s.label}. Värdena finns i tabellen.`}
          option={{
            grid: { left: 200, right: 40, top: 10, bottom: 30 },
            xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
            yAxis: { type: 'category', inverse: true, data: s.options.map((o) => o.label), axisLabel: { width: 190, overflow: 'truncate' } },
            series: [{ type: 'bar', data: s.options.map((o) => o.share ?? '-') }],
          }}
        />
        <DataTable
          caption={`Svar på ${s.label}`}
          rows={s.options}
          rowKey={(o) => o.code}
          columns={[
            { key: 'label', header: 'Svar', rowHeader: true },
            { key: 'count', header: 'Antal', numeric: true, render: (o) => count(o) },
            { key: 'share', header: 'Andel', numeric: true, render: (o) => (o.suppressed ? 'dolt' : formatPercent(o.share)) },
          ]}
        />
      </div>
      {byKeys.map((k) => (
        <GroupTable key={k} s={s} byKey={k} groups={s.by[k]!} />
      ))}
    </section>
  );
}

function GroupTable({ s, byKey, groups }: { s: QuestionStat; byKey: string; groups: GroupStat[] }) {
  const rows = [...s.options.map((o) => ({ code: o.code, label: o.label })), { code: '__unknownShare', label: 'Andel vet ej' }];
  return (
    <DataTable
      caption={`${s.label} per ${(BACKGROUND_KEYS[byKey] ?? byKey).toLowerCase()} (andel av de bedömda i gruppen)`}
      rows={rows}
      rowKey={(r) => r.code}
      columns={[
        { key: 'label', header: 'Svar', rowHeader: true },
        ...groups.map((g) => ({
          key: g.value,
          header: `${g.label} (${count(g)})`,
          numeric: true,
          render: (r: { code: string }) => {
            if (r.code === '__unknownShare') return formatPercent(g.unknownShare);
            const o = g.options.find((x) => x.code === r.code);
            return o?.suppressed ? 'dolt' : formatPercent(o?.share ?? null);
          },
        })),
      ]}
    />
  );
}

function CrosstabBuilder({ code, roundId, questionnaire }: { code: string; roundId: string; questionnaire: Questionnaire }) {
  const keys = [...Object.entries(BACKGROUND_KEYS).map(([k, l]) => ({ value: k, label: l })), ...questionnaire.questions.map((q) => ({ value: q.key, label: q.label }))];
  const [rows, setRows] = useState('mentalHealth');
  const [columns, setColumns] = useState('gender');
  const [filterKey, setFilterKey] = useState('');
  const [filterValue, setFilterValue] = useState('');
  const [request, setRequest] = useState<{ rows: string; columns: string; filterKey: string; filterValue: string } | null>(null);
  const result = useLoad(
    request
      ? () =>
          api<CrosstabResult>(m(code, `/rounds/${roundId}/crosstab`), {
            query: { rows: request.rows, columns: request.columns, ...(request.filterKey && request.filterValue ? { [`filter[${request.filterKey}]`]: request.filterValue } : {}) },
          }).then((r) => r.data)
      : null,
    [code, roundId, JSON.stringify(request)],
  );
  const valueLabel = (key: string, v: string) => {
    const q = questionnaire.questions.find((x) => x.key === key);
    return q ? answerText(q, v) : backgroundValueLabel(key, v);
  };
  const filterOptions = (() => {
    const q = questionnaire.questions.find((x) => x.key === filterKey);
    if (q) return q.options.map((o) => ({ value: o.code, label: o.label }));
    const known: Record<string, string[]> = {
      gender: ['female', 'male', 'other', 'unknown'],
      unit: ['forsorjningsstod', 'vuxenstod', 'arbete-och-integration', 'rehabilitering-och-utveckling'],
      priority: ['high', 'medium', 'low', 'not_set'],
      bornAbroad: ['no', 'yes', 'unknown'],
      ageGroup: ['under_25', '25_34', '35_44', '45_54', '55_plus'],
      hasChildren: ['yes', 'no', 'unknown'],
    };
    return (known[filterKey] ?? []).map((v) => ({ value: v, label: backgroundValueLabel(filterKey, v) }));
  })();
  const keyLabel = (k: string) => keys.find((x) => x.value === k)?.label ?? k;
  return (
    <section aria-labelledby="crosstab-heading">
      <h2 id="crosstab-heading">Korstabell</h2>
      <p className="hint">Välj två uppgifter att ställa mot varandra, och filtrera gärna, till exempel psykisk ohälsa per kön bland dem som är avregistrerade från Arbetsförmedlingen.</p>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setRequest({ rows, columns, filterKey, filterValue });
        }}
      >
        <Select id="ct-rows" label="Rader" value={rows} onChange={setRows} options={keys} />
        <Select id="ct-columns" label="Kolumner" value={columns} onChange={setColumns} options={keys} />
        <Select id="ct-filter-key" label="Filtrera på" value={filterKey} onChange={(v) => (setFilterKey(v), setFilterValue(''))} options={[{ value: '', label: 'Inget filter' }, ...keys]} />
        {filterKey && <Select id="ct-filter-value" label="Värde" value={filterValue} onChange={setFilterValue} options={[{ value: '', label: 'Välj värde' }, ...filterOptions]} />}
        <div className="actions">
          <button type="submit">Visa korstabell</button>
        </div>
      </form>
      {result.loading && <Loading what="Räknar…" />}
      <ErrorMessage error={result.error} />
      {result.data && request && (
        <>
          <DataTable
            caption={`${result.data.rows.label} per ${result.data.columns.label.toLowerCase()}${request.filterKey && request.filterValue ? `, där ${keyLabel(request.filterKey).toLowerCase()} = ${valueLabel(request.filterKey, request.filterValue)}` : ''}`}
            testId="crosstab"
            rows={crosstabGrid(result.data)}
            rowKey={(r) => r.label}
            columns={[
              { key: 'label', header: result.data.rows.label, rowHeader: true },
              ...result.data.columnValues.map((c, i) => ({ key: c, header: result.data!.labels.columns[c] ?? c, numeric: true, render: (r: { cells: Count[] }) => count(r.cells[i]) })),
              { key: 'total', header: 'Totalt', numeric: true, render: (r) => count(r.total) },
            ]}
          />
          <p className="hint">
            {result.data.population === 'assessed_open_cases' ? 'Bedömda ärenden som var öppna på referensdatumet.' : 'Ärenden som var öppna på referensdatumet.'}
            {result.data.rows.multi || result.data.columns.multi ? ' Flervalsfrågor: ett ärende räknas en gång per valt alternativ.' : ''}
          </p>
        </>
      )}
    </section>
  );
}

function Compare({ code, round, previous }: { code: string; round: Round; previous?: Round }) {
  const result = useLoad(
    previous ? () => api<{ items: CompareItem[]; notCompared: string[] }>(m(code, '/rounds/compare'), { query: { from: previous.id, to: round.id } }).then((r) => r.data) : null,
    [code, previous?.id, round.id],
  );
  const top = result.data ? biggestChanges(result.data.items) : [];
  const columns = (p: Round) => [
    { key: 'label', header: 'Fråga', rowHeader: true },
    { key: 'optionLabel', header: 'Svar' },
    { key: 'fromShare', header: p.label, numeric: true, render: (r: CompareItem) => formatPercent(r.fromShare) },
    { key: 'toShare', header: round.label, numeric: true, render: (r: CompareItem) => formatPercent(r.toShare) },
    { key: 'change', header: 'Förändring (procentenheter)', numeric: true, render: (r: CompareItem) => formatPoints(r.change) },
  ];
  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading">Jämförelse med föregående omgång</h2>
      {!previous && <p>Det finns ingen tidigare omgång att jämföra med.</p>}
      <ErrorMessage error={result.error} />
      {previous && result.data && (
        <>
          <div className="chart-with-table">
            <Chart
              height={Math.max(220, top.length * 30)}
              label={`Stapeldiagram: de ${top.length} största förändringarna i andel från ${previous.label} till ${round.label}. Värdena finns i tabellen.`}
              option={{
                grid: { left: 260, right: 40, top: 10, bottom: 30 },
                xAxis: { type: 'value', axisLabel: { formatter: (v: number) => `${Math.round(v * 100)}` } },
                yAxis: { type: 'category', inverse: true, data: top.map((i) => `${i.label}: ${i.optionLabel}`), axisLabel: { width: 250, overflow: 'truncate' } },
                series: [{ type: 'bar', data: top.map((i) => i.change ?? '-') }],
              }}
            />
            <DataTable caption={`Största förändringarna, ${previous.label} → ${round.label}`} rows={top} rowKey={(r) => `${r.key}-${r.option}`} columns={columns(previous)} />
          </div>
          <details>
            <summary>Alla svar ({result.data.items.length})</summary>
            <DataTable caption={`Andel per svar, ${previous.label} och ${round.label}`} rows={result.data.items} rowKey={(r) => `${r.key}-${r.option}`} columns={columns(previous)} />
          </details>
          {result.data.notCompared.length > 0 && <p className="hint">Frågor som bara finns i en av omgångarna jämförs inte: {result.data.notCompared.join(', ')}.</p>}
        </>
      )}
    </section>
  );
}

const DURATION_ROWS: Record<string, string> = {
  long_term: 'Långvarigt (minst 10 månader under året)',
  very_long_term: 'Mycket långvarigt (minst 27 månader på tre år)',
  five_year: '5-årsperiod (minst 45 månader)',
  ten_year: '10-årsperiod (minst 90 månader)',
};
const DURATION_COLUMNS: [string, string][] = [
  ['total', 'Totalt'],
  ['women', 'Kvinnor'],
  ['men', 'Män'],
  ['bornInSweden', 'Födda i Sverige'],
  ['bornAbroad', 'Födda utomlands'],
  ['childrenInHouseholds', 'Barn i hushållen'],
];

interface DurationReport {
  year: number;
  persons: Count;
  rows: ({ category: string } & Record<string, Count | string>)[];
}

function BenefitDuration({ code, defaultYear }: { code: string; defaultYear: number }) {
  const [year, setYear] = useState(String(defaultYear));
  const [asked, setAsked] = useState(String(defaultYear));
  const result = useLoad(/^\d{4}$/.test(asked) ? () => api<DurationReport>(m(code, '/reports/benefit-duration'), { query: { year: asked } }).then((r) => r.data) : null, [code, asked]);
  return (
    <section aria-labelledby="duration-heading">
      <h2 id="duration-heading">Biståndets varaktighet</h2>
      <p className="hint">Samma indelning som i projektets underlag. ”Högst N månaders uppehåll i följd” tillämpas som perioder: ett längre uppehåll inom fönstret startar en ny period.</p>
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setAsked(year);
        }}
      >
        <div className="field">
          <label htmlFor="duration-year">Basår</label>
          <input id="duration-year" type="number" min={1990} max={2100} value={year} onChange={(e) => setYear(e.target.value)} />
        </div>
        <div className="actions">
          <button type="submit">Visa</button>
        </div>
      </form>
      <ErrorMessage error={result.error} />
      {result.data && (
        <DataTable
          caption={`Personer med långvarigt bistånd, basår ${result.data.year} (${count(result.data.persons)} personer med ärende)`}
          testId="benefit-duration"
          rows={result.data.rows}
          rowKey={(r) => r.category}
          columns={[
            { key: 'category', header: 'Kategori', rowHeader: true, render: (r) => DURATION_ROWS[r.category] ?? r.category },
            ...DURATION_COLUMNS.map(([k, l]) => ({ key: k, header: l, numeric: true, render: (r: DurationReport['rows'][number]) => count(r[k] as Count) })),
          ]}
        />
      )}
    </section>
  );
}
