import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { api, m } from '../api/client';
import { caseLabel, type CaseSummary, type List, type Questionnaire, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { AssessmentForm } from '../assessment/assessment-form';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { PRIORITY_LABELS, UNIT_LABELS } from '../i18n/sv';
import { Link, navigate } from '../router';
import { chronological, defaultOpenRound } from './rounds';

export function RegistrationDayPage({ roundId, caseId }: { roundId?: string; caseId?: string }) {
  const { code } = useSignedIn();
  const [tick, setTick] = useState(0);
  const [saved, setSaved] = useState<{ caseId: string; next?: CaseSummary } | null>(null);
  const rounds = useLoad(() => api<List<Round>>(m(code, '/rounds')).then((r) => r.data.items), [code], tick);
  const round = roundId ? rounds.data?.find((r) => r.id === roundId) : undefined;

  useEffect(() => {
    if (!roundId && rounds.data) {
      const open = defaultOpenRound(rounds.data);
      if (open) navigate(`/registreringsdag/${open.id}`, { replace: true });
    }
  }, [roundId, rounds.data]);

  const questionnaire = useLoad(
    round ? () => api<Questionnaire>(m(code, `/questionnaires/${round.questionnaireVersion}`)).then((r) => r.data) : null,
    [code, round?.questionnaireVersion],
  );
  const listCases = (assessed: boolean) => () =>
    api<List<CaseSummary>>(m(code, '/cases'), { query: { roundId: round!.id, assessed, limit: 500 } }).then((r) => r.data.items);
  const remaining = useLoad(round ? listCases(false) : null, [code, round?.id], tick);
  const assessed = useLoad(round ? listCases(true) : null, [code, round?.id], tick);

  const onSaved = (id: string) => {
    const next = remaining.data?.find((c) => c.id !== id);
    setSaved({ caseId: id, next });
    setTick((t) => t + 1);
    navigate(`/registreringsdag/${round!.id}`);
  };

  const nextButton = useRef<HTMLAnchorElement>(null);
  useEffect(() => {
    if (saved && !caseId) requestAnimationFrame(() => (nextButton.current ?? document.getElementById('saved-message'))?.focus());
  }, [saved, caseId]);
  useEffect(() => {
    if (caseId) setSaved(null);
  }, [caseId]);

  const progress = round?.progress;
  const narrow = useMediaQuery('(max-width: 1024px)');
  return (
    <>
      <PageTitle title="Registreringsdag" />
      {rounds.loading && !rounds.data && <Loading />}
      <ErrorMessage error={rounds.error} />
      {rounds.data && rounds.data.length === 0 && <p>Det finns inga mätomgångar ännu. En processägare öppnar en omgång.</p>}
      {rounds.data && rounds.data.length > 0 && (
        <div className="field-inline round-select">
          <label htmlFor="round-select">Mätomgång</label>
          <select id="round-select" value={round?.id ?? ''} onChange={(e) => navigate(`/registreringsdag/${e.target.value}`)}>
            {!round && <option value="">Välj mätomgång</option>}
            {chronological(rounds.data).reverse().map((r) => (
              <option key={r.id} value={r.id}>
                {r.label} ({r.status === 'open' ? 'öppen' : 'stängd'}, referensdatum {r.referenceDate})
              </option>
            ))}
          </select>
        </div>
      )}
      {round && (
        <>
          <section aria-labelledby="progress-heading" className="progress-box">
            <h2 id="progress-heading">Framsteg i {round.label}</h2>
            {round.status === 'closed' && <p className="message info">Omgången är stängd. Nya bedömningar kan inte registreras.</p>}
            {progress && (
              <>
                <p data-testid="round-progress" aria-live="polite">
                  <strong>{progress.assessed}</strong> av {progress.activeCases} ärenden bedömda, <strong>{progress.remaining}</strong> kvar. Prioriterade: {progress.prioritised}.
                </p>
                <progress max={Math.max(progress.activeCases, 1)} value={progress.assessed} aria-labelledby="progress-heading" />
              </>
            )}
          </section>
          {saved && !caseId && (
            <div className="message success" role="status" id="saved-message" tabIndex={-1}>
              <p>Bedömningen är sparad.</p>
              {saved.next ? (
                <p>
                  <Link ref={nextButton} className="button" to={`/registreringsdag/${round.id}/${saved.next.id}`}>
                    Bedöm nästa ärende: {caseLabel(saved.next)}
                  </Link>
                </p>
              ) : (
                <p>Alla ärenden i listan är bedömda.</p>
              )}
            </div>
          )}
          <div className="layout-two">
            <section aria-labelledby="remaining-heading" className="case-column">
              <h2 id="remaining-heading">Kvar att bedöma{remaining.data ? ` (${remaining.data.length})` : ''}</h2>
              <ErrorMessage error={remaining.error} />
              {remaining.loading && !remaining.data && <Loading />}
              {narrow && caseId ? (
                // On a tablet the list would push the form screens down: folded while a case is open.
                <details className="case-list-folded">
                  <summary>Visa listan</summary>
                  <CaseLinks cases={remaining.data ?? []} roundId={round.id} selected={caseId} empty="Inga ärenden kvar att bedöma." />
                </details>
              ) : (
                <CaseLinks cases={remaining.data ?? []} roundId={round.id} selected={caseId} empty="Inga ärenden kvar att bedöma." />
              )}
              <details className="assessed-list">
                <summary>Bedömda{assessed.data ? ` (${assessed.data.length})` : ''}</summary>
                <ErrorMessage error={assessed.error} />
                <CaseLinks cases={assessed.data ?? []} roundId={round.id} selected={caseId} empty="Inga bedömda ännu." />
              </details>
            </section>
            <div className="form-column">
              {caseId && questionnaire.data && round.status === 'open' ? (
                <AssessmentForm key={caseId} code={code} round={round} questionnaire={questionnaire.data} caseId={caseId} onSaved={onSaved} />
              ) : caseId && questionnaire.loading ? (
                <Loading what="Hämtar frågorna…" />
              ) : (
                <p className="placeholder">Välj ett ärende i listan för att registrera bedömning och prioritering.</p>
              )}
              <ErrorMessage error={questionnaire.error} />
            </div>
          </div>
        </>
      )}
    </>
  );
}

function CaseLinks({ cases, roundId, selected, empty }: { cases: CaseSummary[]; roundId: string; selected?: string; empty: string }) {
  if (cases.length === 0) return <p>{empty}</p>;
  return (
    <ul className="case-list">
      {cases.map((c) => (
        <li key={c.id}>
          <Link to={`/registreringsdag/${roundId}/${c.id}`} aria-current={c.id === selected ? 'true' : undefined}>
            <span className="case-name">{caseLabel(c)}</span>
            <span className="case-meta">
              {c.unit ? UNIT_LABELS[c.unit] : 'Avslutat'}
              {c.priority ? ` · ${PRIORITY_LABELS[c.priority]} prioritet` : ''}
            </span>
          </Link>
        </li>
      ))}
    </ul>
  );
}

/** Whether a CSS media query matches now, following changes (the same breakpoint as styles.css). */
function useMediaQuery(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mq = window.matchMedia(query);
      mq.addEventListener('change', onChange);
      return () => mq.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
  );
}
