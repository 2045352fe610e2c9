import { useEffect, useState } from 'react';
import { api, m } from '../api/client';
import { type List, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { Select } from '../components/action-form';
import { Chart } from '../components/chart';
import { DataTable, type Column } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { sankeyModel, flowNodeLabel, type FlowResponse } from '../flow/sankey-model';
import { formatCount, PRIORITY_LABELS } from '../i18n/sv';
import { chronological } from './rounds';

interface Journey {
  units: (string | null)[];
  count: number | null;
  suppressed?: boolean;
}

export function FlowPage() {
  const { code } = useSignedIn();
  const rounds = useLoad(() => api<List<Round>>(m(code, '/rounds')).then((r) => chronological(r.data.items)), [code]);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  useEffect(() => {
    const list = rounds.data;
    if (list && list.length >= 2 && !from && !to) {
      setFrom(list[list.length - 2]!.id);
      setTo(list[list.length - 1]!.id);
    }
  }, [rounds.data, from, to]);
  const label = (id: string) => rounds.data?.find((r) => r.id === id)?.label ?? id;
  const flow = useLoad(from && to ? () => api<FlowResponse>(m(code, '/flows'), { query: { fromRound: from, toRound: to } }).then((r) => r.data) : null, [code, from, to]);
  const model = flow.data ? sankeyModel(flow.data) : null;
  const list = rounds.data ?? [];
  const option = (r: Round) => ({ value: r.id, label: `${r.label} (${r.referenceDate})` });
  const refOf = (id: string) => list.find((r) => r.id === id)?.referenceDate ?? '';
  // A flow goes forward in time: "to" offers only rounds after "from".
  const fromOptions = list.slice(0, -1).map(option);
  const toOptions = list.filter((r) => r.referenceDate > refOf(from)).map(option);
  const chooseFrom = (id: string) => {
    setFrom(id);
    if (!(refOf(to) > refOf(id))) setTo(list.find((r) => r.referenceDate > refOf(id))?.id ?? '');
  };

  return (
    <>
      <PageTitle title="Flöde mellan enheter" />
      <p className="lead">Hur ärendena rörde sig mellan de fyra enheterna från en mätomgång till nästa: kvar, flyttade, nya och avslutade (med orsak).</p>
      {rounds.loading && !rounds.data && <Loading />}
      <ErrorMessage error={rounds.error} />
      {rounds.data && rounds.data.length < 2 && <p>Det behövs minst två mätomgångar för att visa ett flöde.</p>}
      {rounds.data && rounds.data.length >= 2 && (
        <div className="filters" role="group" aria-label="Välj omgångar">
          <Select id="flow-from" label="Från omgång" value={from} onChange={chooseFrom} options={fromOptions} />
          <Select id="flow-to" label="Till omgång" value={to} onChange={setTo} options={toOptions} />
        </div>
      )}
      {flow.loading && !flow.data && <Loading what="Beräknar flödet…" />}
      <ErrorMessage error={flow.error} />
      {model && (
        <section aria-labelledby="sankey-heading">
          <h2 id="sankey-heading">
            Från {label(from)} till {label(to)}
          </h2>
          <p data-testid="flow-total">
            Totalt <strong>{model.total}</strong> ärenden i flödet{model.hasSuppressed ? ' (utöver dolda små tal)' : ''}.
          </p>
          {flow.data!.totals && (
            <dl className="facts" data-testid="flow-headline">
              <div>
                <dt>Aktiva i {label(from)}</dt>
                <dd>{formatCount(flow.data!.totals.from.count, flow.data!.totals.from.suppressed)}</dd>
              </div>
              <div>
                <dt>Nya sedan dess</dt>
                <dd>{formatCount(flow.data!.totals.new.count, flow.data!.totals.new.suppressed)}</dd>
              </div>
              <div>
                <dt>Avslutade eller borta</dt>
                <dd>{formatCount(flow.data!.totals.left.count, flow.data!.totals.left.suppressed)}</dd>
              </div>
              <div>
                <dt>Aktiva i {label(to)}</dt>
                <dd>{formatCount(flow.data!.totals.to.count, flow.data!.totals.to.suppressed)}</dd>
              </div>
            </dl>
          )}
          {model.hasSuppressed && <p className="hint">Små tal (under 5) visas inte, så att ingen kan pekas ut. De saknas i diagrammet och står som ”dolt” i tabellen.</p>}
          <div className="chart-with-table">
            <Chart
              testId="sankey"
              height={Math.max(320, model.nodes.length * 44)}
              label={`Sankeydiagram: ${model.total} ärenden från ${label(from)} till ${label(to)}. Siffrorna finns i tabellen bredvid.`}
              option={{
                tooltip: { trigger: 'item' },
                series: [
                  {
                    type: 'sankey',
                    data: model.nodes,
                    links: model.links,
                    nodeAlign: 'justify',
                    emphasis: { focus: 'adjacency' },
                    lineStyle: { color: 'gradient', opacity: 0.45 },
                    label: { color: '#1b1b1b', formatter: '{b}' },
                    left: 8,
                    right: 190,
                  },
                ],
              }}
            />
            <DataTable
              caption="Flödet i siffror"
              testId="flow-table"
              rows={model.rows}
              rowKey={(r) => `${r.source}>${r.target}`}
              columns={[
                { key: 'sourceLabel', header: `Från (${label(from)})`, rowHeader: true },
                { key: 'targetLabel', header: `Till (${label(to)})` },
                { key: 'count', header: 'Antal', numeric: true, render: (r) => formatCount(r.count, r.suppressed) },
              ]}
            />
          </div>
          <div className="layout-two">
            <DataTable
              caption="Varifrån (summa per ursprung)"
              testId="flow-by-source"
              rows={model.bySource}
              rowKey={(r) => r.code}
              columns={[
                { key: 'label', header: 'Ursprung', rowHeader: true },
                { key: 'total', header: 'Antal', numeric: true, render: (r) => `${r.total}${r.hasSuppressed ? ' + dolda' : ''}` },
              ]}
            />
            <DataTable
              caption="Vart (summa per destination)"
              testId="flow-by-target"
              rows={model.byTarget}
              rowKey={(r) => r.code}
              columns={[
                { key: 'label', header: 'Destination', rowHeader: true },
                { key: 'total', header: 'Antal', numeric: true, render: (r) => `${r.total}${r.hasSuppressed ? ' + dolda' : ''}` },
              ]}
            />
          </div>
        </section>
      )}
      {from && to && <ByPriority code={code} from={from} to={to} fromLabel={label(from)} />}
      {rounds.data && rounds.data.length >= 2 && <Journeys code={code} rounds={rounds.data} />}
    </>
  );
}

interface ByPriorityResponse {
  targets: string[];
  rows: { priority: string | null; target: string; count: number | null; suppressed?: boolean }[];
  byPriority: { priority: string | null; count: number | null; suppressed?: boolean }[];
  test: { statistic: number; degreesOfFreedom: number; pValue: number; cramersV: number; n: number };
}

function ByPriority({ code, from, to, fromLabel }: { code: string; from: string; to: string; fromLabel: string }) {
  const data = useLoad(() => api<ByPriorityResponse>(m(code, '/flows/by-priority'), { query: { fromRound: from, toRound: to } }).then((r) => r.data), [code, from, to]);
  if (data.error || !data.data) return <ErrorMessage error={data.error} />;
  const d = data.data;
  const cell = (p: string | null, t: string) => d.rows.find((r) => r.priority === p && r.target === t);
  // Only destinations someone went to (or that are hidden), so the table stays readable.
  const targets = d.targets.filter((t) => d.rows.some((r) => r.target === t && (r.count !== 0 || r.suppressed)));
  const nf = (n: number, digits = 2) => n.toLocaleString('sv-SE', { maximumFractionDigits: digits });
  return (
    <section aria-labelledby="by-priority-heading">
      <h2 id="by-priority-heading">Vart de tog vägen, efter prioritering i {fromLabel}</h2>
      <p className="hint">Spelar bedömningen roll för var i organisationen personen hamnar?</p>
      <DataTable
        caption="Destination per prioritering"
        testId="by-priority"
        rows={d.byPriority}
        rowKey={(r) => String(r.priority)}
        columns={[
          { key: 'priority', header: 'Prioritering', rowHeader: true, render: (r) => (r.priority ? (PRIORITY_LABELS[r.priority] ?? r.priority) : 'Ingen prioritering') },
          ...targets.map((t) => ({ key: t, header: flowNodeLabel(t), numeric: true, render: (r: { priority: string | null }) => { const c = cell(r.priority, t); return formatCount(c?.count ?? 0, c?.suppressed); } })),
          { key: 'total', header: 'Totalt', numeric: true, render: (r) => formatCount(r.count, r.suppressed) },
        ]}
      />
      {d.test.n > 0 && (
        <p data-testid="by-priority-test">
          Oberoende av prioritering (Pearsons χ²): χ² = {nf(d.test.statistic)}, frihetsgrader {d.test.degreesOfFreedom}, p = {nf(d.test.pValue, 3)}, Cramérs V = {nf(d.test.cramersV)} (n = {d.test.n}).
        </p>
      )}
    </section>
  );
}

const journeyColumns: Column<Journey>[] = [
  { key: 'path', header: 'Väg', rowHeader: true, render: (j) => j.units.map((u) => (u ? flowNodeLabel(u) : 'Inget ärende')).join(' → ') },
  { key: 'count', header: 'Antal', numeric: true, render: (j) => formatCount(j.count, j.suppressed) },
];

function Journeys({ code, rounds }: { code: string; rounds: Round[] }) {
  const [selected, setSelected] = useState<string[]>(() => rounds.slice(-3).map((r) => r.id));
  const journeys = useLoad(
    selected.length >= 2
      ? () => api<{ items: Journey[] }>(m(code, '/flows/journeys'), { query: { rounds: selected } }).then((r) => r.data.items)
      : null,
    [code, selected.join(',')],
  );
  const toggle = (id: string) => setSelected((s) => (s.includes(id) ? s.filter((x) => x !== id) : chronological(rounds.filter((r) => s.includes(r.id) || r.id === id)).map((r) => r.id)));
  return (
    <section aria-labelledby="journeys-heading">
      <h2 id="journeys-heading">Vägar genom flera omgångar</h2>
      <fieldset className="question compact">
        <legend>Omgångar i vägen (minst två)</legend>
        <div className="options">
          {rounds.map((r) => (
            <div className="option" key={r.id}>
              <input type="checkbox" id={`journey-${r.id}`} checked={selected.includes(r.id)} onChange={() => toggle(r.id)} />
              <label htmlFor={`journey-${r.id}`}>{r.label}</label>
            </div>
          ))}
        </div>
      </fieldset>
      <ErrorMessage error={journeys.error} />
      {journeys.data && (
        <>
          <DataTable caption="De vanligaste vägarna" rows={journeys.data.slice(0, 15)} rowKey={(j, i) => `${j.units.join('>')}-${i}`} columns={journeyColumns} />
          {journeys.data.length > 15 && (
            <details>
              <summary>Alla {journeys.data.length} vägar</summary>
              <DataTable caption="Hur många som gick varje väg" rows={journeys.data} rowKey={(j, i) => `${j.units.join('>')}-${i}`} columns={journeyColumns} />
            </details>
          )}
        </>
      )}
    </section>
  );
}
