import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

const STATUS_TEXT: Record<number, string> = {
  400: 'Uppgifterna godtogs inte. Kontrollera fälten.',
  401: 'Du är inte inloggad längre. Logga in igen.',
  403: 'Din roll har inte behörighet till detta.',
  404: 'Det du sökte finns inte, eller så har du inte tillgång till det.',
  409: 'Det går inte i ärendets eller omgångens nuvarande läge.',
  412: 'Någon annan har ändrat ärendet sedan du öppnade det.',
  413: 'Det du skickade är för stort.',
  422: 'Samma begäran skickades redan med annat innehåll.',
  429: 'För många förfrågningar. Vänta en stund och försök igen.',
  503: 'Tjänsten hann inte bli klar. Försök igen om en stund.',
};

export function errorText(error: unknown): string {
  if (error instanceof ApiError) return STATUS_TEXT[error.status] ?? (error.status >= 500 ? 'Något gick fel i tjänsten. Försök igen.' : 'Begäran kunde inte utföras.');
  if (error instanceof TypeError) return 'Tjänsten gick inte att nå. Kontrollera anslutningen.';
  return 'Något gick fel.';
}

/** An error in Swedish, with the API's own detail (English, for support) underneath. */
export function ErrorMessage({ error, children }: { error: unknown; children?: ReactNode }) {
  if (!error) return null;
  const api = error instanceof ApiError ? error : null;
  return (
    <div className="message error" role="alert">
      <p>
        <strong>{errorText(error)}</strong>
      </p>
      {api?.problem.errors && api.problem.errors.length > 0 && (
        <ul>
          {api.problem.errors.map((e) => (
            <li key={e.path + e.message}>
              <code>{e.path}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {children}
      {api?.problem.detail && (
        <p className="detail">
          Teknisk information ({api.status}): {api.problem.detail}
        </p>
      )}
    </div>
  );
}

export function Loading({ what = 'Hämtar…' }: { what?: string }) {
  return (
    <p className="loading" role="status">
      {what}
    </p>
  );
}

export function Success({ children }: { children: ReactNode }) {
  return (
    <div className="message success" role="status">
      {children}
    </div>
  );
}
