import { useEffect, useState } from 'react';
import { api, m } from '../api/client';
import { type List, type Questionnaire, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { answerText, type Question } from '../assessment/answers';
import { Select } from '../components/action-form';
import { Chart } from '../components/chart';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { BACKGROUND_KEYS, backgroundValueLabel, formatCount, formatPercent } from '../i18n/sv';
import { normaliseCrosstab, normaliseStatistics, type GroupStat, type QuestionStat } from '../statistics/stats-model';
import { chronological, previousRound } from './rounds';

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
    round ? () => api<unknown>(m(code, `/rounds/${round.id}/statistics`), { query: { by: 'gender,unit' } }).then((r) => normaliseStatistics(r.data)) : null,
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
          <UnknownOverview stats={stats.data.questions} questionnaire={questionnaire.data} />
          {questionnaire.data.questions.map((q) => {
            const s = stats.data!.questions.find((x) => x.key === q.key);
            return s ? <QuestionSection key={q.key} q={q} s={s} /> : null;
          })}
        </section>
      )}
      {round && questionnaire.data && <CrosstabBuilder code={code} roundId={round.id} questionnaire={questionnaire.data} />}
      {round && questionnaire.data && <Compare code={code} round={round} previous={previous} questionnaire={questionnaire.data} />}
      <BenefitDuration code={code} defaultYear={round ? Number(round.referenceDate.slice(0, 4)) : new Date().getFullYear()} />
    </>
  );
}

function Totals({ totals }: { totals: Record<string, { value: string; count: number | null; suppressed?: boolean }[]> }) {
  const keys = Object.keys(totals).filter((k) => totals[k]!.length > 0);
  if (keys.length === 0) return null;
  return (
    <div className="layout-cards">
      {keys.map((k) => (
        <DataTable
          key={k}
          caption={`Bedömda per ${(BACKGROUND_KEYS[k] ?? k).toLowerCase()}`}
          rows={totals[k]!}
          rowKey={(c) => c.value}
          columns={[
            { key: 'value', header: BACKGROUND_KEYS[k] ?? k, rowHeader: true, render: (c) => backgroundValueLabel(k, c.value) },
            { key: 'count', header: 'Antal', numeric: true, render: (c) => formatCount(c.count, c.suppressed) },
          ]}
        />
      ))}
    </div>
  );
}

function UnknownOverview({ stats, questionnaire }: { stats: QuestionStat[]; questionnaire: Questionnaire }) {
  const rows = questionnaire.questions.map((q) => ({ q, share: stats.find((s) => s.key === q.key)?.unknownShare ?? null }));
  return (
    <section aria-labelledby="unknown-heading">
      <h3 id="unknown-heading">Andel ”vet ej” per fråga</h3>
      <p className="hint">Det tjänsten inte vet är också kunskap: en hög andel visar var underlaget behöver bli bättre.</p>
      <div className="chart-with-table">
        <Chart
          height={Math.max(260, rows.length * 26)}
          label={`Stapeldiagram över andelen vet ej för ${rows.length} frågor. Värdena finns i tabellen.`}
          option={{
            grid: { left: 230, right: 40, top: 10, bottom: 30 },
            xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
            yAxis: { type: 'category', inverse: true, data: rows.map((r) => r.q.label), axisLabel: { width: 220, overflow: 'truncate' } },
            series: [{ type: 'bar', data: rows.map((r) => r.share ?? 0) }],
          }}
        />
        <DataTable
          caption="Andel vet ej"
          rows={rows}
          rowKey={(r) => r.q.key}
          columns={[
            { key: 'q', header: 'Fråga', rowHeader: true, render: (r) => r.q.label },
            { key: 'share', header: 'Vet ej', numeric: true, render: (r) => formatPercent(r.share) },
          ]}
        />
      </div>
    </section>
  );
}

function QuestionSection({ q, s }: { q: Question; s: QuestionStat }) {
  const label = (code: string) => q.options.find((o) => o.code === code)?.label ?? code;
  const optionCodes = q.options.map((o) => o.code);
  const byKeys = Object.keys(s.by ?? {}).filter((k) => (s.by![k] ?? []).length > 0);
  return (
    <section aria-labelledby={`stat-${q.key}`} className="question-stats">
      <h3 id={`stat-${q.key}`}>
        {q.label} <span className="unknown-share">Vet ej: {formatPercent(s.unknownShare)}</span>
      </h3>
      {q.type === 'multi' && <p className="hint">Flera svar möjliga: andelen är andelen bedömda som valde alternativet.</p>}
      <div className="chart-with-table">
        <Chart
          height={Math.max(200, q.options.length * 30)}
          label={`Stapeldiagram: fördelning av svaren på frågan ${q.label}. Värdena finns i tabellen.`}
          option={{
            grid: { left: 200, right: 40, top: 10, bottom: 30 },
            xAxis: { type: 'value', max: 1, axisLabel: { formatter: (v: number) => `${Math.round(v * 100)} %` } },
            yAxis: { type: 'category', inverse: true, data: optionCodes.map(label), axisLabel: { width: 190, overflow: 'truncate' } },
            series: [{ type: 'bar', data: optionCodes.map((c) => s.options.find((o) => o.code === c)?.share ?? 0) }],
          }}
        />
        <DataTable
          caption={`Svar på ${q.label}`}
          rows={optionCodes}
          rowKey={(c) => c}
          columns={[
            { key: 'option', header: 'Svar', rowHeader: true, render: (c) => label(c) },
            { key: 'count', header: 'Antal', numeric: true, render: (c) => { const o = s.options.find((x) => x.code === c); return formatCount(o?.count ?? 0, o?.suppressed); } },
            { key: 'share', header: 'Andel', numeric: true, render: (c) => formatPercent(s.options.find((x) => x.code === c)?.share ?? 0) },
          ]}
        />
      </div>
      {byKeys.map((k) => (
        <GroupTable key={k} q={q} byKey={k} groups={s.by![k]!} label={label} />
      ))}
    </section>
  );
}

function GroupTable({ q, byKey, groups, label }: { q: Question; byKey: string; groups: GroupStat[]; label: (c: string) => string }) {
  const rows = [...q.options.map((o) => o.code), '__unknownShare'];
  return (
    <DataTable
      caption={`${q.label} per ${(BACKGROUND_KEYS[byKey] ?? byKey).toLowerCase()} (andel)`}
      rows={rows}
      rowKey={(c) => c}
      columns={[
        { key: 'option', header: 'Svar', rowHeader: true, render: (c) => (c === '__unknownShare' ? 'Andel vet ej' : label(c)) },
        ...groups.map((g) => ({
          key: g.value,
          header: backgroundValueLabel(byKey, g.value),
          numeric: true,
          render: (c: string) => {
            if (c === '__unknownShare') return formatPercent(g.unknownShare);
            const o = g.options.find((x) => x.code === c);
            return o?.suppressed ? 'dolt' : formatPercent(o?.share ?? 0);
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
          api<unknown>(m(code, `/rounds/${roundId}/crosstab`), {
            query: { rows: request.rows, columns: request.columns, ...(request.filterKey && request.filterValue ? { [`filter[${request.filterKey}]`]: request.filterValue } : {}) },
          }).then((r) => normaliseCrosstab(r.data))
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
      priority: ['high', 'medium', 'low'],
      bornAbroad: ['no', 'yes', 'unknown'],
      hasChildren: ['true', 'false', 'unknown'],
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
        <DataTable
          caption={`${keyLabel(request.rows)} per ${keyLabel(request.columns).toLowerCase()}${request.filterKey && request.filterValue ? `, där ${keyLabel(request.filterKey).toLowerCase()} = ${valueLabel(request.filterKey, request.filterValue)}` : ''}`}
          testId="crosstab"
          rows={[...result.data.rowValues, '__total']}
          rowKey={(r) => r}
          columns={[
            { key: 'row', header: keyLabel(request.rows), rowHeader: true, render: (r) => (r === '__total' ? 'Totalt' : valueLabel(request.rows, r)) },
            ...result.data.columnValues.map((c) => ({
              key: c,
              header: valueLabel(request.columns, c),
              numeric: true,
              render: (r: string) => {
                if (r === '__total') return formatCount(result.data!.columnTotal(c));
                const cell = result.data!.cell(r, c);
                return formatCount(cell.count, cell.suppressed);
              },
            })),
            { key: '__total', header: 'Totalt', numeric: true, render: (r) => formatCount(r === '__total' ? result.data!.total : result.data!.rowTotal(r)) },
          ]}
        />
      )}
    </section>
  );
}

interface CompareRow {
  key?: string;
  question?: string;
  option?: string;
  code?: string;
  fromShare: number | null;
  toShare: number | null;
  change: number | null;
}

function Compare({ code, round, previous, questionnaire }: { code: string; round: Round; previous?: Round; questionnaire: Questionnaire }) {
  const result = useLoad(
    previous
      ? () =>
          api<{ items?: CompareRow[]; changes?: CompareRow[]; rows?: CompareRow[] }>(m(code, '/rounds/compare'), { query: { from: previous.id, to: round.id } }).then(
            (r) => r.data.items ?? r.data.changes ?? r.data.rows ?? [],
          )
      : null,
    [code, previous?.id, round.id],
  );
  const questionOf = (r: CompareRow) => questionnaire.questions.find((q) => q.key === (r.key ?? r.question));
  return (
    <section aria-labelledby="compare-heading">
      <h2 id="compare-heading">Jämförelse med föregående omgång</h2>
      {!previous && <p>Det finns ingen tidigare omgång att jämföra med.</p>}
      <ErrorMessage error={result.error} />
      {previous && result.data && (
        <DataTable
          caption={`Förändring i andel från ${previous.label} till ${round.label} (procentenheter)`}
          rows={result.data}
          rowKey={(r, i) => `${r.key ?? r.question}-${r.option ?? r.code}-${i}`}
          columns={[
            { key: 'question', header: 'Fråga', rowHeader: true, render: (r) => questionOf(r)?.label ?? r.key ?? r.question ?? '–' },
            { key: 'option', header: 'Svar', render: (r) => { const q = questionOf(r); const o = r.option ?? r.code ?? ''; return q ? answerText(q, o) : o; } },
            { key: 'fromShare', header: previous.label, numeric: true, render: (r) => formatPercent(r.fromShare) },
            { key: 'toShare', header: round.label, numeric: true, render: (r) => formatPercent(r.toShare) },
            { key: 'change', header: 'Förändring', numeric: true, render: (r) => (r.change === null ? '–' : `${r.change > 0 ? '+' : ''}${(r.change * 100).toLocaleString('sv-SE', { maximumFractionDigits: 1 })}`) },
          ]}
        />
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

function BenefitDuration({ code, defaultYear }: { code: string; defaultYear: number }) {
  const [year, setYear] = useState(String(defaultYear));
  const [asked, setAsked] = useState(String(defaultYear));
  const result = useLoad(
    /^\d{4}$/.test(asked)
      ? () =>
          api<{ rows?: Record<string, unknown>[]; items?: Record<string, unknown>[] } | Record<string, unknown>>(m(code, '/reports/benefit-duration'), { query: { year: asked } }).then((r) => {
            const d = r.data as Record<string, unknown>;
            const list = (d.rows ?? d.items) as Record<string, unknown>[] | Record<string, Record<string, unknown>> | undefined;
            if (Array.isArray(list)) return list;
            return Object.entries(list ?? d).filter(([k]) => k in DURATION_ROWS).map(([category, v]) => ({ category, ...(v as Record<string, unknown>) }));
          })
      : null,
    [code, asked],
  );
  const cell = (v: unknown) => (v === null ? 'dolt' : typeof v === 'object' && v !== null ? formatCount((v as { count?: number | null }).count ?? null, (v as { suppressed?: boolean }).suppressed) : formatCount(v as number));
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
          caption={`Personer med långvarigt bistånd, basår ${asked}`}
          testId="benefit-duration"
          rows={result.data}
          rowKey={(r) => String(r.category ?? r.key ?? r.row)}
          columns={[
            { key: 'category', header: 'Kategori', rowHeader: true, render: (r) => DURATION_ROWS[String(r.category ?? r.key ?? r.row)] ?? String(r.category ?? r.key ?? r.row) },
            ...DURATION_COLUMNS.map(([k, l]) => ({ key: k, header: l, numeric: true, render: (r: Record<string, unknown>) => cell(r[k]) })),
          ]}
        />
      )}
    </section>
  );
}
