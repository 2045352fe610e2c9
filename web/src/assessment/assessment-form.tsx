import { useCallback, useEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import { api, ApiError, m, newIdempotencyKey } from '../api/client';
import { actorName, caseLabel, type CaseDetail, type HistoryEntry, type List, type Round } from '../api/types';
import { ErrorMessage, Loading } from '../components/messages';
import { useLoad } from '../components/use-api';
import { BORN_ABROAD_LABELS, EVENT_LABELS, formatDate, GENDER_LABELS, PRIORITIES, PRIORITY_LABELS, UNIT_LABELS } from '../i18n/sv';
import { Link } from '../router';
import {
  answerText,
  answerUnknown,
  assessmentBody,
  changesSince,
  choose,
  keyAction,
  missingQuestions,
  numberedOptions,
  UNKNOWN,
  type Answers,
  type Question,
  type Questionnaire,
} from './answers';

/** Priority is answered like a question (digits 1–3) but has no "Vet ej". */
const PRIORITY_QUESTION: Question = {
  key: 'priority',
  label: 'Prioritering',
  type: 'single',
  options: PRIORITIES.map((p) => ({ code: p, label: PRIORITY_LABELS[p]! })),
};

type Conflict = { changes: HistoryEntry[]; currentVersion: number };

/**
 * One case's assessment for a round, made to be filled in with the keyboard only: every
 * question is a native radio or checkbox group (Tab between groups, arrows within), and
 * digits choose, 0 or V answers "Vet ej", Enter moves on, Ctrl+Enter saves.
 */
export function AssessmentForm({ code, round, questionnaire, caseId, onSaved }: {
  code: string;
  round: Round;
  questionnaire: Questionnaire;
  caseId: string;
  onSaved: (caseId: string) => void;
}) {
  const loaded = useLoad(
    () => api<CaseDetail>(m(code, `/cases/${caseId}`)).then((r) => ({ case: r.data, version: Number(r.etag ?? r.data.version) })),
    [code, caseId],
  );
  const [answers, setAnswers] = useState<Answers>({});
  const [priority, setPriority] = useState<string | undefined>();
  const [version, setVersion] = useState<number | null>(null);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [missing, setMissing] = useState<Question[]>([]);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [assessmentDone, setAssessmentDone] = useState(false);
  // One key per filled-in form: a double click or a retry after a lost answer records once.
  const idempotencyKey = useRef(newIdempotencyKey());
  const savingRef = useRef(false);
  const formRef = useRef<HTMLFormElement>(null);
  const summaryRef = useRef<HTMLDivElement>(null);

  const caseData = loaded.data?.case;
  const existing = caseData?.assessments?.[round.id];

  useEffect(() => {
    if (!loaded.data) return;
    setVersion(loaded.data.version);
    setPriority((p) => p ?? loaded.data!.case.priorityByRound?.[round.id]);
  }, [loaded.data, round.id]);

  const questions = questionnaire.questions;
  const all = [...questions, PRIORITY_QUESTION];

  const focusQuestion = useCallback((index: number) => {
    const form = formRef.current;
    if (!form) return;
    if (index >= all.length) {
      form.querySelector<HTMLButtonElement>('button[type="submit"]')?.focus();
      return;
    }
    const fs = form.querySelector<HTMLFieldSetElement>(`fieldset[data-index="${Math.max(0, index)}"]`);
    (fs?.querySelector<HTMLInputElement>('input:checked') ?? fs?.querySelector<HTMLInputElement>('input'))?.focus();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [all.length]);

  // Ready to type at once: focus the first question when the case has loaded.
  useEffect(() => {
    if (caseData && !existing) requestAnimationFrame(() => focusQuestion(0));
  }, [caseData, existing, focusQuestion]);

  const setAnswer = (q: Question, next: Answers | ((a: Answers) => Answers)) => {
    if (q === PRIORITY_QUESTION) return;
    setAnswers(next);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLFormElement>) => {
    const fs = (e.target as HTMLElement).closest<HTMLFieldSetElement>('fieldset[data-index]');
    const index = fs ? Number(fs.dataset.index) : -1;
    const q = index >= 0 ? all[index]! : null;
    const action = keyAction(e, q);
    if (!action) return;
    e.preventDefault();
    switch (action.kind) {
      case 'save':
        formRef.current?.requestSubmit();
        return;
      case 'next':
        focusQuestion(index + 1);
        return;
      case 'previous':
        focusQuestion(index - 1);
        return;
      case 'unknown':
        if (q === PRIORITY_QUESTION) return;
        setAnswer(q!, (a) => answerUnknown(a, q!));
        focusQuestion(index + 1);
        return;
      case 'choose':
        if (q === PRIORITY_QUESTION) {
          setPriority(action.code);
          focusQuestion(index + 1);
          return;
        }
        setAnswer(q!, (a) => choose(a, q!, action.code));
        if (q!.type === 'single') focusQuestion(index + 1);
        else {
          // Keep focus on the toggled box so the change is heard.
          fs?.querySelector<HTMLInputElement>(`input[value="${CSS.escape(action.code)}"]`)?.focus();
        }
        return;
    }
  };

  const save = async (expectedVersion: number) => {
    if (savingRef.current) return;
    const stillMissing = [...missingQuestions(questionnaire, answers), ...(priority ? [] : [PRIORITY_QUESTION])];
    setMissing(stillMissing);
    if (stillMissing.length > 0) {
      requestAnimationFrame(() => summaryRef.current?.focus());
      return;
    }
    savingRef.current = true;
    setSaving(true);
    setError(null);
    setConflict(null);
    try {
      let v = expectedVersion;
      if (!assessmentDone) {
        const r = await api<unknown>(m(code, `/cases/${caseId}/assessments`), {
          method: 'POST',
          body: assessmentBody(round.id, questionnaire, answers),
          ifMatch: v,
          idempotencyKey: `${idempotencyKey.current}-a`,
        });
        setAssessmentDone(true);
        v = r.etag ? Number(r.etag) : Number((await api<CaseDetail>(m(code, `/cases/${caseId}`))).etag);
      }
      await api<unknown>(m(code, `/cases/${caseId}/prioritisations`), {
        method: 'POST',
        body: { priority, roundId: round.id },
        ifMatch: v,
        idempotencyKey: `${idempotencyKey.current}-p`,
      });
      idempotencyKey.current = newIdempotencyKey();
      onSaved(caseId);
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) {
        const [history, current] = await Promise.all([
          api<List<HistoryEntry> | HistoryEntry[]>(m(code, `/cases/${caseId}/history`)).then((r) => (Array.isArray(r.data) ? r.data : r.data.items)),
          api<CaseDetail>(m(code, `/cases/${caseId}`)),
        ]).catch(() => [[], null] as const);
        const currentVersion = current ? Number(current.etag ?? current.data.version) : expectedVersion;
        setConflict({ changes: changesSince(history, expectedVersion), currentVersion });
      } else setError(e);
    } finally {
      savingRef.current = false;
      setSaving(false);
    }
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (version !== null) void save(version);
  };

  if (loaded.loading && !caseData) return <Loading what="Hämtar ärendet…" />;
  if (loaded.error) return <ErrorMessage error={loaded.error} />;
  if (!caseData) return null;

  const title = caseLabel({ id: caseData.id, personalIdentityNumber: caseData.personalIdentityNumber });
  const answeredCount = questions.length - missingQuestions(questionnaire, answers).length;

  return (
    <section aria-labelledby="assessment-heading" className="assessment">
      <h2 id="assessment-heading">Bedömning: {title}</h2>
      <dl className="facts">
        <div>
          <dt>Enhet</dt>
          <dd>{caseData.unit ? UNIT_LABELS[caseData.unit] : '–'}</dd>
        </div>
        <div>
          <dt>Kön</dt>
          <dd>{GENDER_LABELS[caseData.gender] ?? caseData.gender}</dd>
        </div>
        <div>
          <dt>Födelseår</dt>
          <dd>{caseData.birthYear}</dd>
        </div>
        <div>
          <dt>Födelseland</dt>
          <dd>{BORN_ABROAD_LABELS[caseData.bornAbroad] ?? caseData.bornAbroad}</dd>
        </div>
        <div>
          <dt>Nuvarande prioritering</dt>
          <dd>{caseData.priority ? PRIORITY_LABELS[caseData.priority] : 'Ingen'}</dd>
        </div>
      </dl>
      <p>
        <Link to={`/arenden/${caseData.id}`}>Öppna ärendet</Link> (historik och åtgärder)
      </p>

      {existing ? (
        <div className="message info">
          <p>
            <strong>Ärendet är redan bedömt i {round.label}.</strong> Ändringar görs som rättelser på <Link to={`/arenden/${caseData.id}`}>ärendesidan</Link>.
          </p>
          <ul className="answers-summary">
            {questions.map((q) => (
              <li key={q.key}>
                {q.label}: {answerText(q, existing.answers[q.key])}
              </li>
            ))}
          </ul>
        </div>
      ) : (
        <form ref={formRef} onSubmit={onSubmit} onKeyDown={onKeyDown} aria-describedby="shortcut-help" noValidate>
          <KeyHelp />
          {missing.length > 0 && (
            <div className="message error" role="alert" tabIndex={-1} ref={summaryRef} aria-labelledby="missing-heading">
              <h3 id="missing-heading">Svar saknas på {missing.length === 1 ? 'en fråga' : `${missing.length} frågor`}</h3>
              <ul>
                {missing.map((q) => (
                  <li key={q.key}>
                    <a
                      href={`#q-${q.key}`}
                      onClick={(e) => {
                        e.preventDefault();
                        focusQuestion(all.indexOf(q));
                      }}
                    >
                      {q.label}
                    </a>
                  </li>
                ))}
              </ul>
            </div>
          )}
          <p className="answered-count">
            Besvarade frågor: {answeredCount} av {questions.length}
          </p>
          {all.map((q, index) => (
            <QuestionFieldset
              key={q.key}
              q={q}
              index={index}
              number={q === PRIORITY_QUESTION ? null : index + 1}
              value={q === PRIORITY_QUESTION ? priority : answers[q.key]}
              invalid={missing.includes(q)}
              onChoose={(c) => (q === PRIORITY_QUESTION ? setPriority(c) : setAnswer(q, (a) => choose(a, q, c)))}
            />
          ))}
          {conflict && (
            <div className="message warning" role="alert">
              <h3>Ärendet har ändrats sedan du öppnade det</h3>
              {conflict.changes.length > 0 ? (
                <>
                  <p>Det här har registrerats under tiden:</p>
                  <ul data-testid="conflict-changes">
                    {conflict.changes.map((c) => (
                      <li key={c.version}>
                        {EVENT_LABELS[c.type] ?? c.type}
                        {c.effectiveDate ? `, gäller från ${c.effectiveDate}` : ''}, registrerad {formatDate(c.recordedAt)} av {actorName(c.actor)}
                      </li>
                    ))}
                  </ul>
                </>
              ) : (
                <p>Ärendet har en nyare version.</p>
              )}
              <p>Dina svar finns kvar. Kontrollera ändringarna och spara igen om bedömningen fortfarande stämmer.</p>
              <button type="button" onClick={() => (setVersion(conflict.currentVersion), void save(conflict.currentVersion))}>
                Spara mina svar på den nya versionen
              </button>
            </div>
          )}
          <ErrorMessage error={error} />
          {assessmentDone && error ? <p>Bedömningen är sparad, men inte prioriteringen. Spara igen för att spara prioriteringen.</p> : null}
          <div className="actions">
            <button type="submit" aria-disabled={saving || undefined} aria-keyshortcuts="Control+Enter">
              {saving ? 'Sparar…' : 'Spara bedömning'}
            </button>
            <span className="hint">eller Ctrl+Enter</span>
          </div>
        </form>
      )}
    </section>
  );
}

function QuestionFieldset({ q, index, number, value, invalid, onChoose }: {
  q: Question;
  index: number;
  number: number | null;
  value: string | string[] | undefined;
  invalid: boolean;
  onChoose: (code: string) => void;
}) {
  const numbered = numberedOptions(q);
  const unknown = q.options.find((o) => o.code === UNKNOWN);
  const isChecked = (c: string) => (Array.isArray(value) ? value.includes(c) : value === c);
  const type = q.type === 'multi' ? 'checkbox' : 'radio';
  const option = (code: string, label: string, key: string) => {
    const id = `q-${q.key}-${code}`;
    return (
      <div className={`option${code === UNKNOWN ? ' unknown' : ''}`} key={code}>
        <input type={type} id={id} name={q.key} value={code} checked={isChecked(code)} onChange={() => onChoose(code)} />
        <label htmlFor={id}>
          <kbd aria-hidden="true">{key}</kbd> {label}
        </label>
      </div>
    );
  };
  return (
    <fieldset id={`q-${q.key}`} data-index={index} className={`question${invalid ? ' invalid' : ''}`}>
      <legend>
        {number !== null ? `${number}. ` : ''}
        {q.label}
        {q.type === 'multi' && <span className="legend-hint"> (flera val)</span>}
        {invalid && <span className="legend-error"> – svar saknas</span>}
      </legend>
      <div className="options">
        {numbered.map((o, i) => option(o.code, o.label, String(i + 1)))}
        {unknown && option(unknown.code, unknown.label, '0')}
      </div>
    </fieldset>
  );
}

export function KeyHelp() {
  return (
    <details id="shortcut-help" className="key-help" open>
      <summary>Kortkommandon</summary>
      <ul>
        <li>
          <kbd>1</kbd>–<kbd>9</kbd> väljer alternativet med den siffran (i flervalsfrågor slår siffran av eller på).
        </li>
        <li>
          <kbd>0</kbd> eller <kbd>V</kbd> svarar <strong>Vet ej</strong> och går till nästa fråga.
        </li>
        <li>
          <kbd>Enter</kbd> går till nästa fråga, <kbd>Skift</kbd>+<kbd>Enter</kbd> till föregående.
        </li>
        <li>
          <kbd>Ctrl</kbd>+<kbd>Enter</kbd> sparar. <kbd>Tab</kbd>, piltangenter och mellanslag fungerar som vanligt.
        </li>
      </ul>
    </details>
  );
}
