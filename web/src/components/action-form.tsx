import { useRef, useState, type FormEvent, type ReactNode } from 'react';
import { newIdempotencyKey } from '../api/client';
import { ErrorMessage, Success } from './messages';

/**
 * A form that runs one command: one Idempotency-Key per filled-in form (a double submit records
 * once), the submit button disabled while it runs, errors and success announced.
 */
export function ActionForm({ id, title, submitLabel, onSubmit, children, description, level = 3 }: {
  id: string;
  title: string;
  /** Heading level of the title, to fit the page's outline. */
  level?: 2 | 3;
  submitLabel: string;
  description?: ReactNode;
  onSubmit: (idempotencyKey: string) => Promise<string | void>;
  children: ReactNode;
}) {
  const key = useRef(newIdempotencyKey());
  const running = useRef(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (running.current) return;
    running.current = true;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const message = await onSubmit(key.current);
      key.current = newIdempotencyKey();
      setDone(message || 'Sparat.');
    } catch (err) {
      setError(err);
    } finally {
      running.current = false;
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} className="action-form" aria-labelledby={`${id}-heading`}>
      {level === 2 ? <h2 id={`${id}-heading`}>{title}</h2> : <h3 id={`${id}-heading`}>{title}</h3>}
      {description}
      {children}
      <ErrorMessage error={error} />
      {done && <Success>{done}</Success>}
      <div className="actions">
        {/* aria-disabled, not disabled: a disabled button would drop the keyboard user's focus. */}
        <button type="submit" aria-disabled={busy || undefined}>
          {busy ? 'Sparar…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

/** A labelled form control with an optional hint; the hint is tied to the control with aria-describedby. */
export function Field({ id, label, hint, children }: { id: string; label: string; hint?: string; children: (describedBy: string | undefined) => ReactNode }) {
  const hintId = hint ? `${id}-hint` : undefined;
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {hint && (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      )}
      {children(hintId)}
    </div>
  );
}

export function Select({ id, label, value, onChange, options, hint, required }: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  options: { value: string; label: string }[];
  hint?: string;
  required?: boolean;
}) {
  return (
    <Field id={id} label={label} hint={hint}>
      {(d) => (
        <select id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={d} required={required}>
          {options.map((o) => (
            <option key={o.value} value={o.value}>
              {o.label}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function DateInput({ id, label, value, onChange, hint }: { id: string; label: string; value: string; onChange: (v: string) => void; hint?: string }) {
  return (
    <Field id={id} label={label} hint={hint}>
      {(d) => <input type="date" id={id} value={value} onChange={(e) => onChange(e.target.value)} aria-describedby={d} required />}
    </Field>
  );
}

export const optionsOf = (labels: Record<string, string>, codes: readonly string[] = Object.keys(labels)) => codes.map((c) => ({ value: c, label: labels[c] ?? c }));
