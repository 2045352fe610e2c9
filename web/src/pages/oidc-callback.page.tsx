import { useEffect, useRef, useState } from 'react';
import { api } from '../api/client';
import { useApp } from '../app-context';
import { completeOidcSignIn, type OidcClientConfig } from '../auth/oidc';
import { Loading } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { Link } from '../router';

export function OidcCallbackPage() {
  const { signIn } = useApp();
  const [error, setError] = useState<string | null>(null);
  const started = useRef(false);
  useEffect(() => {
    // Once only: the code and the verifier can be used a single time.
    if (started.current) return;
    started.current = true;
    (async () => {
      const cfg = (await api<{ oidc: OidcClientConfig | null }>('/api/v1/auth/client-config')).data.oidc;
      if (!cfg) throw new Error('OpenID Connect is not configured');
      const { session, returnTo } = await completeOidcSignIn(cfg, location.search);
      signIn(session, returnTo === '/' ? undefined : returnTo);
    })().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [signIn]);
  return (
    <>
      <PageTitle title="Loggar in" />
      {error ? (
        <div className="message error" role="alert">
          <p>
            <strong>Inloggningen kunde inte slutföras.</strong> <Link to="/logga-in">Försök igen</Link>.
          </p>
          <p className="detail">Teknisk information: {error}</p>
        </div>
      ) : (
        <Loading what="Slutför inloggningen…" />
      )}
    </>
  );
}
