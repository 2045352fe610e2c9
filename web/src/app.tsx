import { useCallback, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { configureApi, resetPosition } from './api/client';
import { AppContext, hasRole, homePath, type AppState } from './app-context';
import { clearSession, loadMunicipality, loadSession, saveMunicipality, saveSession, type Role, type Session } from './auth/session';
import { municipalityName, ROLE_LABELS } from './i18n/sv';
import { CasePage } from './pages/case.page';
import { CasesPage } from './pages/cases.page';
import { ExportsPage } from './pages/exports.page';
import { FlowPage } from './pages/flow.page';
import { OidcCallbackPage } from './pages/oidc-callback.page';
import { RegistrationDayPage } from './pages/registration-day.page';
import { RoundsPage } from './pages/rounds.page';
import { SignInPage } from './pages/sign-in.page';
import { StatisticsPage } from './pages/statistics.page';
import { Link, matchPath, navigate, useLocation } from './router';
import { PageTitle } from './components/page-title';

interface Route {
  path: string;
  roles: Role[];
  nav?: string;
  render: (params: Record<string, string>) => ReactNode;
}

const ALL: Role[] = ['caseworker', 'process_owner', 'evaluator', 'admin'];

const ROUTES: Route[] = [
  { path: '/registreringsdag/:roundId?/:caseId?', roles: ['caseworker'], nav: 'Registreringsdag', render: (p) => <RegistrationDayPage roundId={p.roundId} caseId={p.caseId} /> },
  { path: '/arenden', roles: ['caseworker'], nav: 'Ärenden', render: () => <CasesPage /> },
  { path: '/arenden/:id', roles: ['caseworker'], render: (p) => <CasePage id={p.id!} /> },
  { path: '/omgangar', roles: ['process_owner', 'admin'], nav: 'Mätomgångar', render: () => <RoundsPage /> },
  { path: '/flode', roles: ALL, nav: 'Flöde', render: () => <FlowPage /> },
  { path: '/statistik', roles: ALL, nav: 'Statistik', render: () => <StatisticsPage /> },
  { path: '/export', roles: ['evaluator'], nav: 'Export', render: () => <ExportsPage /> },
];

const navPathOf = (r: Route) => '/' + r.path.split('/')[1];

export function App() {
  const [session, setSession] = useState<Session | null>(() => loadSession());
  const [code, setCodeState] = useState<string | null>(() => (session ? loadMunicipality(session) : null));
  const { pathname } = useLocation();

  const signOut = useCallback(() => {
    clearSession();
    resetPosition();
    setSession(null);
    setCodeState(null);
    navigate('/logga-in');
  }, []);

  const state = useMemo<AppState>(
    () => ({
      session,
      code,
      signIn(s, to) {
        saveSession(s);
        resetPosition();
        setSession(s);
        setCodeState(loadMunicipality(s));
        navigate(to && to.startsWith('/') && !to.startsWith('//') ? to : homePath(s), { replace: true });
      },
      signOut,
      setCode(c) {
        saveMunicipality(c);
        setCodeState(c);
      },
    }),
    [session, code, signOut],
  );

  const sessionRef = useRef(session);
  sessionRef.current = session;
  // During render, not in an effect: the pages' effects (which fetch) run before the App's own.
  configureApi({ token: () => sessionRef.current?.token ?? null, onUnauthorized: signOut });

  // A new page moves focus to its heading, so screen readers announce it (WCAG 2.4.3).
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    requestAnimationFrame(() => {
      // Unless the page has already put focus somewhere inside it (e.g. "next case" after a save).
      const active = document.activeElement;
      const main = document.getElementById('main');
      if (active && active !== main && main?.contains(active)) return;
      document.querySelector<HTMLElement>('main h1')?.focus();
    });
  }, [pathname]);

  let content: ReactNode;
  if (pathname === '/auth/callback') content = <OidcCallbackPage />;
  else if (!session) {
    if (pathname !== '/logga-in') {
      queueMicrotask(() => navigate(`/logga-in${pathname !== '/' ? `?next=${encodeURIComponent(pathname)}` : ''}`, { replace: true }));
      content = null;
    } else content = <SignInPage />;
  } else if (pathname === '/' || pathname === '/logga-in') {
    queueMicrotask(() => navigate(homePath(session), { replace: true }));
    content = null;
  } else {
    const found = ROUTES.map((r) => ({ r, params: matchPath(r.path, pathname) })).find((x) => x.params);
    if (!found) content = <NotFound />;
    else if (!hasRole(session, ...found.r.roles)) content = <Forbidden />;
    else if (!code) content = <NoMunicipality />;
    else content = <div key={code}>{found.r.render(found.params!)}</div>;
  }

  return (
    <AppContext.Provider value={state}>
      <a className="skip-link" href="#main">
        Hoppa till huvudinnehållet
      </a>
      <header className="site-header">
        <div className="brand">
          <Link to="/" className="brand-link">
            Vägen
          </Link>
          <span className="brand-sub">Uppföljning mot hållbar egen försörjning</span>
        </div>
        {session && <SessionBar session={session} code={code} onCode={state.setCode} onSignOut={signOut} />}
      </header>
      {session && (
        <nav className="main-nav" aria-label="Huvudmeny">
          <ul>
            {ROUTES.filter((r) => r.nav && hasRole(session, ...r.roles)).map((r) => {
              const to = navPathOf(r);
              const current = pathname === to || pathname.startsWith(to + '/');
              return (
                <li key={r.path}>
                  <Link to={to} aria-current={current ? 'page' : undefined}>
                    {r.nav}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
      )}
      <main id="main" tabIndex={-1}>
        {content}
      </main>
      <footer className="site-footer">
        <p>Vägen – ärendeuppföljning för ekonomiskt bistånd. Uppgifter om enskilda loggas vid varje läsning.</p>
      </footer>
    </AppContext.Provider>
  );
}

function SessionBar({ session, code, onCode, onSignOut }: { session: Session; code: string | null; onCode: (c: string) => void; onSignOut: () => void }) {
  return (
    <div className="session-bar">
      <span className="who">
        {session.name} <span className="role">({session.roles.map((r) => ROLE_LABELS[r]).join(', ')})</span>
      </span>
      {session.municipalities.length > 1 ? (
        <span className="field-inline">
          <label htmlFor="municipality-select">Kommun</label>
          <select id="municipality-select" value={code ?? ''} onChange={(e) => onCode(e.target.value)}>
            {session.municipalities.map((c) => (
              <option key={c} value={c}>
                {municipalityName(c)}
              </option>
            ))}
          </select>
        </span>
      ) : (
        code && <span className="municipality">{municipalityName(code)}</span>
      )}
      <button type="button" className="secondary" onClick={onSignOut}>
        Logga ut
      </button>
    </div>
  );
}

function NotFound() {
  return (
    <>
      <PageTitle title="Sidan finns inte" />
      <p>
        Adressen leder inte till någon sida. <Link to="/">Gå till startsidan</Link>.
      </p>
    </>
  );
}

function Forbidden() {
  return (
    <>
      <PageTitle title="Ingen behörighet" />
      <p>
        Din roll har inte tillgång till den här sidan. <Link to="/">Gå till startsidan</Link>.
      </p>
    </>
  );
}

function NoMunicipality() {
  return (
    <>
      <PageTitle title="Ingen kommun" />
      <p>Din inloggning gäller ingen kommun. Kontakta din administratör.</p>
    </>
  );
}
