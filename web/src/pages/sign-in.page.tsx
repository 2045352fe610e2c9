import { useState } from 'react';
import { api } from '../api/client';
import { useApp } from '../app-context';
import { startOidcSignIn, type OidcClientConfig } from '../auth/oidc';
import { sessionFromToken } from '../auth/session';
import { ErrorMessage, Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { municipalityName, ROLE_LABELS } from '../i18n/sv';
import { useLocation } from '../router';

interface ClientConfig {
  demoUsers: boolean;
  oidc: OidcClientConfig | null;
}
interface DemoUser {
  sub: string;
  name: string;
  role: string;
  municipalities: string[];
  token: string;
}

export function SignInPage() {
  const { signIn } = useApp();
  const { query } = useLocation();
  const next = query.get('next') ?? undefined;
  const config = useLoad(() => api<ClientConfig>('/api/v1/auth/client-config').then((r) => r.data), []);
  const demo = useLoad(config.data?.demoUsers ? () => api<{ items: DemoUser[] }>('/api/v1/dev/demo-users').then((r) => r.data.items) : null, [config.data?.demoUsers]);
  const [oidcError, setOidcError] = useState<unknown>(null);
  const [redirecting, setRedirecting] = useState(false);

  const oidc = config.data?.oidc;
  return (
    <>
      <PageTitle title="Logga in" />
      <p className="lead">Vägen följer upp ärenden inom ekonomiskt bistånd över tid: registreringsdagar, flöden mellan enheter och utvärdering.</p>
      {config.loading && <Loading />}
      <ErrorMessage error={config.error} />
      {oidc && (
        <section aria-labelledby="oidc-heading" className="card">
          <h2 id="oidc-heading">Logga in med din organisations inloggning</h2>
          <p>Du skickas till inloggningstjänsten och kommer sedan tillbaka hit.</p>
          <button
            type="button"
            disabled={redirecting}
            onClick={() => {
              setRedirecting(true);
              setOidcError(null);
              startOidcSignIn(oidc, next ?? '/').catch((e: unknown) => {
                setRedirecting(false);
                setOidcError(e);
              });
            }}
          >
            {redirecting ? 'Skickar dig vidare…' : 'Logga in'}
          </button>
          {oidcError ? (
            <div className="message error" role="alert">
              <p>
                <strong>Inloggningstjänsten gick inte att nå.</strong> Försök igen eller kontakta din administratör.
              </p>
              <p className="detail">Teknisk information: {oidcError instanceof Error ? oidcError.message : String(oidcError)}</p>
            </div>
          ) : null}
        </section>
      )}
      {config.data?.demoUsers && (
        <section aria-labelledby="demo-heading" className="card">
          <h2 id="demo-heading">Demoanvändare</h2>
          <p>Endast i utvecklings- och demoläge: välj en användare för att logga in med dess roll och kommun.</p>
          {demo.loading && <Loading what="Hämtar demoanvändare…" />}
          <ErrorMessage error={demo.error} />
          <ul className="demo-users">
            {demo.data?.map((u) => (
              <li key={u.sub}>
                <button type="button" className="demo-user" onClick={() => signIn(sessionFromToken(u.token, 'demo'), next)}>
                  <span className="demo-name">{u.name}</span>
                  <span className="demo-meta">
                    {ROLE_LABELS[u.role] ?? u.role} · {u.municipalities.map(municipalityName).join(', ')}
                  </span>
                </button>
              </li>
            ))}
          </ul>
        </section>
      )}
      {config.data && !config.data.demoUsers && !oidc && (
        <p className="message error" role="alert">
          Ingen inloggning är konfigurerad för webbgränssnittet (OIDC_CLIENT_ID och AUTH_ISSUER saknas).
        </p>
      )}
    </>
  );
}
