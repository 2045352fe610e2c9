import { useState } from 'react';
import { api, m } from '../api/client';
import { actorName, caseLabel, formatPnr, type CaseDetail, type HistoryEntry, type List, type Questionnaire, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { answerText, choose, numberedOptions, type Answers, type Question } from '../assessment/answers';
import { ActionForm, DateInput, Field, optionsOf, Select } from '../components/action-form';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import {
  BORN_ABROAD_LABELS,
  CLOSURE_LABELS,
  EVENT_LABELS,
  formatDate,
  GENDER_LABELS,
  INTERVENTION_TYPE_LABELS,
  OUTCOME_LABELS,
  PRIORITIES,
  PRIORITY_LABELS,
  PROVIDER_LABELS,
  STATUS_LABELS,
  todayInStockholm,
  UNIT_CODES,
  UNIT_LABELS,
} from '../i18n/sv';
import { Link } from '../router';

export function CasePage({ id }: { id: string }) {
  const { code } = useSignedIn();
  const [tick, setTick] = useState(0);
  const caseLoad = useLoad(() => api<CaseDetail>(m(code, `/cases/${id}`)).then((r) => ({ ...r.data, version: Number(r.etag ?? r.data.version) })), [code, id], tick);
  const history = useLoad(
    () => api<List<HistoryEntry> | HistoryEntry[]>(m(code, `/cases/${id}/history`)).then((r) => (Array.isArray(r.data) ? r.data : r.data.items)),
    [code, id],
    tick,
  );
  const rounds = useLoad(() => api<List<Round>>(m(code, '/rounds')).then((r) => r.data.items), [code]);
  const c = caseLoad.data;

  /** Every command on the case carries the version the user saw: a stale page gets 412, not a silent overwrite. */
  const command = async (path: string, body: unknown, key: string, message: string, method: 'POST' | 'PUT' | 'DELETE' = 'POST') => {
    await api(m(code, `/cases/${id}${path}`), { method, body, ifMatch: c!.version, idempotencyKey: method === 'POST' ? key : undefined });
    setTick((t) => t + 1);
    return message;
  };

  return (
    <>
      <PageTitle title={c ? `Ärende ${caseLabel(c)}` : 'Ärende'} />
      <p>
        <Link to="/arenden">Alla ärenden</Link>
      </p>
      {caseLoad.loading && !c && <Loading />}
      <ErrorMessage error={caseLoad.error} />
      {c && (
        <>
          <div className="layout-cards">
            <section aria-labelledby="bg-heading" className="card">
              <h2 id="bg-heading">Bakgrund</h2>
              <dl className="facts">
                <Fact label="Personnummer" value={formatPnr(c.personalIdentityNumber)} />
                <Fact label="Födelseår" value={String(c.birthYear)} />
                <Fact label="Kön" value={GENDER_LABELS[c.gender] ?? c.gender} />
                <Fact label="Födelseland" value={BORN_ABROAD_LABELS[c.bornAbroad] ?? c.bornAbroad} />
                <Fact label="Barn i hushållet" value={c.childrenInHousehold === 'unknown' ? 'Vet ej' : String(c.childrenInHousehold)} />
                {c.registeredOn && <Fact label="Registrerat" value={c.registeredOn} />}
              </dl>
            </section>
            <section aria-labelledby="now-heading" className="card">
              <h2 id="now-heading">Nuläge</h2>
              <dl className="facts">
                <Fact label="Status" value={STATUS_LABELS[c.status] ?? c.status} />
                <Fact label="Enhet" value={c.unit ? (UNIT_LABELS[c.unit] ?? c.unit) : '–'} />
                <Fact label="Prioritering" value={c.priority ? PRIORITY_LABELS[c.priority]! : 'Ingen'} />
                {c.closure && <Fact label="Avslutsorsak" value={`${CLOSURE_LABELS[c.closure.reason] ?? c.closure.reason} (${c.closure.effectiveDate})`} />}
                <Fact label="Version" value={String(c.version)} />
              </dl>
            </section>
          </div>

          <section aria-labelledby="interventions-heading">
            <h2 id="interventions-heading">Insatser</h2>
            <DataTable
              caption="Insatser i ärendet"
              rows={c.interventions}
              rowKey={(i) => i.interventionId}
              empty="Inga insatser."
              columns={[
                { key: 'type', header: 'Insats', rowHeader: true, render: (i) => INTERVENTION_TYPE_LABELS[i.type] ?? i.type },
                { key: 'provider', header: 'Utförare', render: (i) => PROVIDER_LABELS[i.provider] ?? i.provider },
                { key: 'startDate', header: 'Start' },
                { key: 'endDate', header: 'Slut', render: (i) => i.endDate ?? 'Pågår' },
                { key: 'outcome', header: 'Utfall', render: (i) => (i.outcome ? OUTCOME_LABELS[i.outcome] : '–') },
              ]}
            />
          </section>

          <section aria-labelledby="assessments-heading">
            <h2 id="assessments-heading">Bedömningar</h2>
            <Assessments code={code} c={c} rounds={rounds.data ?? []} />
          </section>

          <section aria-labelledby="actions-heading">
            <h2 id="actions-heading">Åtgärder</h2>
            <p className="hint">Varje åtgärd har ett datum då den gällde i verkligheten; registreringstiden sätts av tjänsten.</p>
            <div className="actions-grid">
              {c.status === 'open' ? (
                <>
                  <TransferForm current={c.unit} onRun={(b, k) => command('/transfers', b, k, 'Ärendet är flyttat.')} />
                  <PriorityForm rounds={rounds.data ?? []} onRun={(b, k) => command('/prioritisations', b, k, 'Prioriteringen är sparad.')} />
                  <InterventionStartForm onRun={(b, k) => command('/interventions', b, k, 'Insatsen är registrerad.')} />
                  {c.interventions.some((i) => !i.endDate) && (
                    <InterventionEndForm c={c} onRun={(iid, b, k) => command(`/interventions/${iid}/end`, b, k, 'Insatsen är avslutad.')} />
                  )}
                  <CloseForm onRun={(b, k) => command('/close', b, k, 'Ärendet är avslutat.')} />
                </>
              ) : (
                <ReopenForm onRun={(b, k) => command('/reopen', b, k, 'Ärendet är återöppnat.')} />
              )}
              {Object.keys(c.assessments ?? {}).length > 0 && (
                <CorrectionForm code={code} c={c} rounds={rounds.data ?? []} onRun={(roundId, b, k) => command(`/assessments/${roundId}/corrections`, b, k, 'Rättelsen är sparad.')} />
              )}
              <BenefitMonthForm c={c} onRun={(month, method) => command(`/benefit-months/${month}`, undefined, '', method === 'PUT' ? `Biståndsmånad ${month} är registrerad.` : `Biståndsmånad ${month} är borttagen.`, method)} />
            </div>
          </section>

          <section aria-labelledby="timeline-heading">
            <h2 id="timeline-heading">Händelser</h2>
            <ErrorMessage error={history.error} />
            {history.data && (
              <DataTable
                caption="Alla händelser i ärendet, i den ordning de registrerades"
                testId="timeline"
                rows={history.data}
                rowKey={(e) => String(e.version)}
                columns={[
                  { key: 'version', header: 'Nr', numeric: true },
                  { key: 'type', header: 'Händelse', rowHeader: true, render: (e) => EVENT_LABELS[e.type] ?? e.type },
                  { key: 'effectiveDate', header: 'Gäller från', render: (e) => e.effectiveDate ?? '–' },
                  { key: 'recordedAt', header: 'Registrerad', render: (e) => formatDate(e.recordedAt) },
                  { key: 'actor', header: 'Av', render: (e) => actorName(e.actor) },
                  { key: 'data', header: 'Uppgifter', render: (e) => describeEvent(e) },
                ]}
              />
            )}
          </section>
        </>
      )}
    </>
  );
}

function Fact({ label, value }: { label: string; value: string }) {
  return (
    <div>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** A short Swedish summary of an event's data for the timeline. */
export function describeEvent(e: HistoryEntry): string {
  const d = (e.data ?? {}) as Record<string, unknown>;
  switch (e.type) {
    case 'CaseRegistered':
      return `Enhet: ${UNIT_LABELS[String(d.unit)] ?? d.unit ?? '–'}`;
    case 'CaseTransferred':
      return `${UNIT_LABELS[String(d.fromUnit)] ?? d.fromUnit ?? '?'} → ${UNIT_LABELS[String(d.toUnit)] ?? d.toUnit}`;
    case 'PrioritySet':
      return `${PRIORITY_LABELS[String(d.priority)] ?? d.priority}`;
    case 'CaseClosed':
      return `Orsak: ${CLOSURE_LABELS[String(d.reason)] ?? d.reason}`;
    case 'CaseReopened':
      return `Enhet: ${UNIT_LABELS[String(d.unit)] ?? d.unit}`;
    case 'InterventionStarted':
      return `${INTERVENTION_TYPE_LABELS[String(d.type)] ?? d.type}, ${PROVIDER_LABELS[String(d.provider)] ?? d.provider}`;
    case 'InterventionEnded':
      return `Utfall: ${OUTCOME_LABELS[String(d.outcome)] ?? d.outcome}`;
    case 'BenefitMonthRecorded':
    case 'BenefitMonthWithdrawn':
      return String(d.month ?? '');
    case 'AssessmentRecorded':
    case 'AssessmentCorrected': {
      const answers = d.answers && typeof d.answers === 'object' ? Object.keys(d.answers).length : 0;
      return `${answers} svar${e.type === 'AssessmentCorrected' && typeof d.reason === 'string' ? ` – ${d.reason}` : ''}`;
    }
    default:
      return '';
  }
}

function Assessments({ code, c, rounds }: { code: string; c: CaseDetail; rounds: Round[] }) {
  const entries = Object.values(c.assessments ?? {});
  if (entries.length === 0) return <p>Ärendet har inte bedömts i någon mätomgång.</p>;
  return (
    <>
      {entries.map((a) => (
        <AssessmentTable key={a.roundId} code={code} c={c} roundId={a.roundId} roundLabel={rounds.find((r) => r.id === a.roundId)?.label ?? a.roundId} />
      ))}
    </>
  );
}

function AssessmentTable({ code, c, roundId, roundLabel }: { code: string; c: CaseDetail; roundId: string; roundLabel: string }) {
  const a = c.assessments[roundId]!;
  const q = useLoad(() => api<Questionnaire>(m(code, `/questionnaires/${a.questionnaireVersion ?? 1}`)).then((r) => r.data), [code, a.questionnaireVersion]);
  if (!q.data) return <ErrorMessage error={q.error} />;
  const questionnaire = q.data;
  return (
    <>
    <DataTable
      caption={`Bedömning i ${roundLabel}${a.effectiveDate ? ` (${a.effectiveDate})` : ''}${a.corrections?.length ? `, rättad ${a.corrections.length} gång(er)` : ''}`}
      rows={q.data.questions}
      rowKey={(x) => x.key}
      columns={[
        { key: 'label', header: 'Fråga', rowHeader: true },
        { key: 'answer', header: 'Svar', render: (x) => answerText(x, a.answers[x.key]) },
        {
          key: 'original',
          header: 'Ursprungligt svar',
          render: (x) => (a.originalAnswers && JSON.stringify(a.originalAnswers[x.key]) !== JSON.stringify(a.answers[x.key]) ? answerText(x, a.originalAnswers[x.key]) : '–'),
        },
      ]}
    />
    {a.corrections.length > 0 && (
      <ul className="corrections" aria-label={`Rättelser i ${roundLabel}`}>
        {a.corrections.map((k, i) => (
          <li key={i}>
            Rättad {formatDate(k.recordedAt)} av {k.correctedBy}:{' '}
            {Object.keys(k.answers)
              .map((key) => {
                const question = questionnaire.questions.find((x) => x.key === key);
                return question ? `${question.label} → ${answerText(question, k.answers[key])}` : key;
              })
              .join('; ')}
            . Anledning: {k.reason ?? '(raderad)'}
          </li>
        ))}
      </ul>
    )}
    </>
  );
}

type Run = (body: unknown, key: string) => Promise<string>;

function TransferForm({ current, onRun }: { current: string | null; onRun: Run }) {
  const others = UNIT_CODES.filter((u) => u !== current);
  const [chosen, setToUnit] = useState(others[0]!);
  // After a transfer the chosen unit may be the current one: offer the first other unit then.
  const toUnit = others.includes(chosen) ? chosen : others[0]!;
  const [date, setDate] = useState(todayInStockholm());
  const [reason, setReason] = useState('');
  return (
    <ActionForm id="transfer" title="Flytta till annan enhet" submitLabel="Flytta ärendet" onSubmit={(k) => onRun({ toUnit, effectiveDate: date, ...(reason ? { reason } : {}) }, k)}>
      <Select id="transfer-unit" label="Till enhet" value={toUnit} onChange={setToUnit} options={optionsOf(UNIT_LABELS, others)} />
      <DateInput id="transfer-date" label="Gäller från" value={date} onChange={setDate} />
      <Field id="transfer-reason" label="Anledning (frivilligt)">
        {() => <textarea id="transfer-reason" value={reason} onChange={(e) => setReason(e.target.value)} rows={2} />}
      </Field>
    </ActionForm>
  );
}

function PriorityForm({ rounds, onRun }: { rounds: Round[]; onRun: Run }) {
  const open = rounds.filter((r) => r.status === 'open');
  const [priority, setPriority] = useState<string>('medium');
  const [roundId, setRoundId] = useState(open[0]?.id ?? '');
  const [reason, setReason] = useState('');
  return (
    <ActionForm id="priority" title="Ändra prioritering" submitLabel="Spara prioritering" onSubmit={(k) => onRun({ priority, ...(roundId ? { roundId } : {}), ...(reason ? { reason } : {}) }, k)}>
      <Select id="priority-value" label="Prioritering" value={priority} onChange={setPriority} options={optionsOf(PRIORITY_LABELS, PRIORITIES)} />
      <Select id="priority-round" label="Mätomgång" value={roundId} onChange={setRoundId} options={[{ value: '', label: 'Ingen (löpande ändring)' }, ...open.map((r) => ({ value: r.id, label: r.label }))]} />
      <Field id="priority-reason" label="Anledning (frivilligt)">
        {() => <textarea id="priority-reason" value={reason} onChange={(e) => setReason(e.target.value)} rows={2} />}
      </Field>
    </ActionForm>
  );
}

function InterventionStartForm({ onRun }: { onRun: Run }) {
  const [type, setType] = useState('language_coach');
  const [provider, setProvider] = useState('municipality');
  const [date, setDate] = useState(todayInStockholm());
  return (
    <ActionForm id="intervention" title="Påbörja insats" submitLabel="Registrera insats" onSubmit={(k) => onRun({ type, provider, startDate: date }, k)}>
      <Select id="intervention-type" label="Insats" value={type} onChange={setType} options={optionsOf(INTERVENTION_TYPE_LABELS)} />
      <Select id="intervention-provider" label="Utförare" value={provider} onChange={setProvider} options={optionsOf(PROVIDER_LABELS)} />
      <DateInput id="intervention-start" label="Startdatum" value={date} onChange={setDate} />
    </ActionForm>
  );
}

function InterventionEndForm({ c, onRun }: { c: CaseDetail; onRun: (id: string, body: unknown, key: string) => Promise<string> }) {
  const running = c.interventions.filter((i) => !i.endDate);
  const [chosen, setIid] = useState(running[0]!.interventionId);
  const iid = running.some((i) => i.interventionId === chosen) ? chosen : running[0]!.interventionId;
  const [date, setDate] = useState(todayInStockholm());
  const [outcome, setOutcome] = useState('completed');
  return (
    <ActionForm id="intervention-end" title="Avsluta insats" submitLabel="Avsluta insatsen" onSubmit={(k) => onRun(iid, { endDate: date, outcome }, k)}>
      <Select id="intervention-end-which" label="Insats" value={iid} onChange={setIid} options={running.map((i) => ({ value: i.interventionId, label: `${INTERVENTION_TYPE_LABELS[i.type] ?? i.type} (från ${i.startDate})` }))} />
      <DateInput id="intervention-end-date" label="Slutdatum" value={date} onChange={setDate} />
      <Select id="intervention-outcome" label="Utfall" value={outcome} onChange={setOutcome} options={optionsOf(OUTCOME_LABELS)} />
    </ActionForm>
  );
}

function CloseForm({ onRun }: { onRun: Run }) {
  const [reason, setReason] = useState('employment');
  const [date, setDate] = useState(todayInStockholm());
  return (
    <ActionForm id="close" title="Avsluta ärendet" submitLabel="Avsluta ärendet" onSubmit={(k) => onRun({ reason, effectiveDate: date }, k)}>
      <Select id="close-reason" label="Orsak" value={reason} onChange={setReason} options={optionsOf(CLOSURE_LABELS)} />
      <DateInput id="close-date" label="Gäller från" value={date} onChange={setDate} />
    </ActionForm>
  );
}

function ReopenForm({ onRun }: { onRun: Run }) {
  const [unit, setUnit] = useState(UNIT_CODES[0]!);
  const [date, setDate] = useState(todayInStockholm());
  return (
    <ActionForm id="reopen" title="Återöppna ärendet" submitLabel="Återöppna" onSubmit={(k) => onRun({ unit, effectiveDate: date }, k)}>
      <Select id="reopen-unit" label="Enhet" value={unit} onChange={setUnit} options={optionsOf(UNIT_LABELS)} />
      <DateInput id="reopen-date" label="Gäller från" value={date} onChange={setDate} />
    </ActionForm>
  );
}

function CorrectionForm({ code, c, rounds, onRun }: { code: string; c: CaseDetail; rounds: Round[]; onRun: (roundId: string, body: unknown, key: string) => Promise<string> }) {
  const roundIds = Object.keys(c.assessments);
  const [roundId, setRoundId] = useState(roundIds[0]!);
  const a = c.assessments[roundId]!;
  const q = useLoad(() => api<Questionnaire>(m(code, `/questionnaires/${a.questionnaireVersion ?? 1}`)).then((r) => r.data), [code, a.questionnaireVersion]);
  const [key, setKey] = useState('');
  const [answers, setAnswers] = useState<Answers>({});
  const [reason, setReason] = useState('');
  const question: Question | undefined = q.data?.questions.find((x) => x.key === (key || q.data?.questions[0]?.key));
  return (
    <ActionForm
      id="correction"
      title="Rätta bedömning"
      submitLabel="Spara rättelse"
      description={<p className="hint">En rättelse ändrar inte den frysta omgången, men syns i vyn ”rättad sedan”.</p>}
      onSubmit={(k) => {
        if (!question || answers[question.key] === undefined) return Promise.reject(new Error('Välj ett nytt svar.'));
        return onRun(roundId, { answers: { [question.key]: answers[question.key] }, reason }, k);
      }}
    >
      <Select id="correction-round" label="Mätomgång" value={roundId} onChange={setRoundId} options={roundIds.map((id) => ({ value: id, label: rounds.find((r) => r.id === id)?.label ?? id }))} />
      {q.data && question && (
        <>
          <Select id="correction-question" label="Fråga" value={question.key} onChange={(v) => (setKey(v), setAnswers({}))} options={q.data.questions.map((x) => ({ value: x.key, label: x.label }))} />
          <p>Nuvarande svar: {answerText(question, a.answers[question.key])}</p>
          <fieldset className="question compact">
            <legend>Nytt svar</legend>
            <div className="options">
              {[...numberedOptions(question), ...question.options.filter((o) => o.code === 'unknown')].map((o) => {
                const id = `correction-${question.key}-${o.code}`;
                const v = answers[question.key];
                return (
                  <div className="option" key={o.code}>
                    <input
                      type={question.type === 'multi' ? 'checkbox' : 'radio'}
                      id={id}
                      name={`correction-${question.key}`}
                      checked={Array.isArray(v) ? v.includes(o.code) : v === o.code}
                      onChange={() => setAnswers((cur) => choose(cur, question, o.code))}
                    />
                    <label htmlFor={id}>{o.label}</label>
                  </div>
                );
              })}
            </div>
          </fieldset>
        </>
      )}
      <Field id="correction-reason" label="Anledning till rättelsen" hint="Krävs. Skrivs krypterat och kan raderas med personens uppgifter.">
        {(d) => <textarea id="correction-reason" required value={reason} onChange={(e) => setReason(e.target.value)} rows={2} aria-describedby={d} />}
      </Field>
    </ActionForm>
  );
}

function BenefitMonthForm({ c, onRun }: { c: CaseDetail; onRun: (month: string, method: 'PUT' | 'DELETE') => Promise<string> }) {
  const [month, setMonth] = useState(todayInStockholm().slice(0, 7));
  const has = c.benefitMonths.includes(month);
  return (
    <ActionForm
      id="benefit-month"
      title="Biståndsmånader"
      submitLabel={has ? 'Ta bort månaden' : 'Registrera månaden'}
      description={<p>Registrerade: {c.benefitMonths.length ? c.benefitMonths.join(', ') : 'inga'}.</p>}
      onSubmit={() => onRun(month, has ? 'DELETE' : 'PUT')}
    >
      <Field id="benefit-month-value" label="Månad (ÅÅÅÅ-MM)">
        {() => <input id="benefit-month-value" type="text" inputMode="numeric" pattern="\d{4}-\d{2}" value={month} onChange={(e) => setMonth(e.target.value)} />}
      </Field>
    </ActionForm>
  );
}
