import { useState } from 'react';
import { api, ApiError, m } from '../api/client';
import { caseLabel, type CaseDetail, type CaseSummary, type List } from '../api/types';
import { useSignedIn } from '../app-context';
import { ActionForm, DateInput, Field, optionsOf, Select } from '../components/action-form';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { BORN_ABROAD_LABELS, GENDER_LABELS, PRIORITIES, PRIORITY_LABELS, STATUS_LABELS, todayInStockholm, UNIT_CODES, UNIT_LABELS } from '../i18n/sv';
import { Link, navigate } from '../router';

export function CasesPage() {
  const { code } = useSignedIn();
  const [unit, setUnit] = useState('');
  const [status, setStatus] = useState('open');
  const [priority, setPriority] = useState('');
  const cases = useLoad(
    () => api<List<CaseSummary>>(m(code, '/cases'), { query: { unit, status, priority, limit: 500 } }).then((r) => r.data),
    [code, unit, status, priority],
  );
  return (
    <>
      <PageTitle title="Ärenden" />
      <div className="layout-two">
        <section aria-labelledby="list-heading">
          <h2 id="list-heading">Ärendelista</h2>
          <div className="filters" role="group" aria-label="Filter">
            <Select id="filter-unit" label="Enhet" value={unit} onChange={setUnit} options={[{ value: '', label: 'Alla enheter' }, ...optionsOf(UNIT_LABELS)]} />
            <Select id="filter-status" label="Status" value={status} onChange={setStatus} options={[{ value: '', label: 'Alla' }, ...optionsOf(STATUS_LABELS)]} />
            <Select id="filter-priority" label="Prioritering" value={priority} onChange={setPriority} options={[{ value: '', label: 'Alla' }, ...optionsOf(PRIORITY_LABELS, PRIORITIES)]} />
          </div>
          {cases.loading && !cases.data && <Loading />}
          <ErrorMessage error={cases.error} />
          {cases.data && (
            <DataTable
              caption={`Ärenden (${cases.data.items.length}${cases.data.nextCursor ? '+' : ''})`}
              rows={cases.data.items}
              rowKey={(c) => c.id}
              empty="Inga ärenden matchar filtret."
              columns={[
                { key: 'id', header: 'Ärende', rowHeader: true, render: (c) => <Link to={`/arenden/${c.id}`}>{caseLabel(c)}</Link> },
                { key: 'unit', header: 'Enhet', render: (c) => (c.unit ? UNIT_LABELS[c.unit] : '–') },
                { key: 'priority', header: 'Prioritering', render: (c) => (c.priority ? PRIORITY_LABELS[c.priority] : '–') },
                { key: 'status', header: 'Status', render: (c) => STATUS_LABELS[c.status] ?? c.status },
              ]}
            />
          )}
        </section>
        <RegisterCase code={code} />
      </div>
    </>
  );
}

function RegisterCase({ code }: { code: string }) {
  const [pnr, setPnr] = useState('');
  const [gender, setGender] = useState('female');
  const [bornAbroad, setBornAbroad] = useState('no');
  const [children, setChildren] = useState('0');
  const [childrenUnknown, setChildrenUnknown] = useState(false);
  const [unit, setUnit] = useState(UNIT_CODES[0]!);
  const [date, setDate] = useState(todayInStockholm());
  const [existing, setExisting] = useState<string | null>(null);
  return (
    <section aria-labelledby="register-heading">
      <h2 id="register-heading" className="visually-hidden">
        Nytt ärende
      </h2>
      <ActionForm
        id="register"
        title="Registrera nytt ärende"
        submitLabel="Registrera ärendet"
        onSubmit={async (key) => {
          setExisting(null);
          try {
            const r = await api<CaseDetail>(m(code, '/cases'), {
              method: 'POST',
              idempotencyKey: key,
              body: {
                personalIdentityNumber: pnr.trim(),
                gender,
                bornAbroad,
                childrenInHousehold: childrenUnknown ? 'unknown' : Number(children),
                unit,
                effectiveDate: date,
              },
            });
            navigate(`/arenden/${r.data.id}`);
          } catch (e) {
            // 409: the person already has an open case here; the problem names it.
            if (e instanceof ApiError && e.status === 409) {
              const id = (e.problem.caseId ?? e.problem.existingCaseId) as string | undefined;
              if (id) setExisting(id);
            }
            throw e;
          }
        }}
      >
        <Field id="reg-pnr" label="Personnummer eller samordningsnummer" hint="12 siffror, ÅÅÅÅMMDD-NNNN">
          {(d) => <input id="reg-pnr" type="text" inputMode="numeric" autoComplete="off" required value={pnr} onChange={(e) => setPnr(e.target.value)} aria-describedby={d} />}
        </Field>
        <Select id="reg-gender" label="Kön" value={gender} onChange={setGender} options={optionsOf(GENDER_LABELS)} />
        <Select id="reg-born" label="Födelseland" value={bornAbroad} onChange={setBornAbroad} options={optionsOf(BORN_ABROAD_LABELS)} />
        <Field id="reg-children" label="Antal barn i hushållet">
          {() => <input id="reg-children" type="number" min={0} max={30} value={children} disabled={childrenUnknown} onChange={(e) => setChildren(e.target.value)} />}
        </Field>
        <div className="option">
          <input id="reg-children-unknown" type="checkbox" checked={childrenUnknown} onChange={(e) => setChildrenUnknown(e.target.checked)} />
          <label htmlFor="reg-children-unknown">Vet ej antal barn</label>
        </div>
        <Select id="reg-unit" label="Enhet" value={unit} onChange={setUnit} options={optionsOf(UNIT_LABELS)} />
        <DateInput id="reg-date" label="Gäller från" value={date} onChange={setDate} />
        {existing && (
          <p>
            Personen har redan ett öppet ärende: <Link to={`/arenden/${existing}`}>öppna det</Link>.
          </p>
        )}
      </ActionForm>
    </section>
  );
}
