import { useState } from 'react';
import { api, m } from '../api/client';
import { type List, type Questionnaire, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { ActionForm, DateInput, Field } from '../components/action-form';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { formatPercent } from '../i18n/sv';
import { chronological } from './rounds';

export function RoundsPage() {
  const { code } = useSignedIn();
  const [tick, setTick] = useState(0);
  const rounds = useLoad(() => api<List<Round>>(m(code, '/rounds')).then((r) => chronological(r.data.items).reverse()), [code], tick);
  const current = useLoad(() => api<Questionnaire>(m(code, '/questionnaires/current')).then((r) => r.data), [code]);
  const [label, setLabel] = useState('');
  const [referenceDate, setReferenceDate] = useState('');
  const [closing, setClosing] = useState<string | null>(null);
  const [closeError, setCloseError] = useState<unknown>(null);

  const close = async (r: Round) => {
    if (!window.confirm(`Stänga ${r.label}? Omgångens ögonblicksbild fryses och inga fler bedömningar kan registreras.`)) return;
    setClosing(r.id);
    setCloseError(null);
    try {
      await api(m(code, `/rounds/${r.id}/close`), { method: 'POST', body: {}, idempotencyKey: `close-${r.id}` });
      setTick((t) => t + 1);
    } catch (e) {
      setCloseError(e);
    } finally {
      setClosing(null);
    }
  };

  return (
    <>
      <PageTitle title="Mätomgångar" />
      <p className="lead">Varje halvår bedöms alla aktiva ärenden. När omgången stängs fryses läget på referensdatumet.</p>
      {rounds.loading && !rounds.data && <Loading />}
      <ErrorMessage error={rounds.error} />
      <ErrorMessage error={closeError} />
      {rounds.data && (
        <DataTable
          caption="Mätomgångar"
          rows={rounds.data}
          rowKey={(r) => r.id}
          empty="Inga mätomgångar ännu."
          columns={[
            { key: 'label', header: 'Omgång', rowHeader: true },
            { key: 'referenceDate', header: 'Referensdatum' },
            { key: 'status', header: 'Status', render: (r) => (r.status === 'open' ? 'Öppen' : 'Stängd') },
            { key: 'questionnaireVersion', header: 'Frågeversion', numeric: true },
            { key: 'active', header: 'Aktiva ärenden', numeric: true, render: (r) => r.progress?.activeCases ?? '–' },
            { key: 'assessed', header: 'Bedömda', numeric: true, render: (r) => (r.progress ? `${r.progress.assessed} (${formatPercent(r.progress.activeCases ? r.progress.assessed / r.progress.activeCases : null)})` : '–') },
            { key: 'remaining', header: 'Kvar', numeric: true, render: (r) => r.progress?.remaining ?? '–' },
            {
              key: 'action',
              header: 'Åtgärd',
              render: (r) =>
                r.status === 'open' ? (
                  <button type="button" className="secondary" disabled={closing === r.id} onClick={() => void close(r)}>
                    Stäng {r.label}
                  </button>
                ) : (
                  '–'
                ),
            },
          ]}
        />
      )}
      <ActionForm
        id="new-round"
        level={2}
        title="Öppna ny mätomgång"
        submitLabel="Öppna omgången"
        onSubmit={async (key) => {
          await api(m(code, '/rounds'), { method: 'POST', idempotencyKey: key, body: { label: label.trim(), referenceDate, questionnaireVersion: current.data?.version ?? 1 } });
          setTick((t) => t + 1);
          return `Omgången ${label} är öppnad.`;
        }}
      >
        <Field id="round-label" label="Namn" hint="Till exempel 2026-H1">
          {(d) => <input id="round-label" type="text" required value={label} onChange={(e) => setLabel(e.target.value)} aria-describedby={d} />}
        </Field>
        <DateInput id="round-reference" label="Referensdatum" value={referenceDate} onChange={setReferenceDate} />
        <p>Frågeversion: {current.data?.version ?? '…'} (den senaste).</p>
      </ActionForm>
    </>
  );
}
