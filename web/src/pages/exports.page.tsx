import { useState } from 'react';
import { api, download, m } from '../api/client';
import { type List, type Round } from '../api/types';
import { useSignedIn } from '../app-context';
import { DataTable } from '../components/data-table';
import { ErrorMessage, Loading, Success } from '../components/messages';
import { PageTitle } from '../components/page-title';
import { useLoad } from '../components/use-api';
import { municipalityName } from '../i18n/sv';
import { chronological } from './rounds';

const FORMATS = [
  { value: 'csv', label: 'CSV (kommaseparerad, UTF-8)', accept: 'text/csv', ext: 'csv' },
  { value: 'ndjson', label: 'NDJSON (en JSON-rad per rad)', accept: 'application/x-ndjson', ext: 'ndjson' },
  { value: 'parquet', label: 'Parquet (för R, Python, Stata m.fl.)', accept: 'application/vnd.apache.parquet', ext: 'parquet' },
] as const;

interface CodebookOption {
  code: string;
  label: string;
  /** by_design: "Vet ej", recorded on purpose; structural: the value cannot exist for the row. */
  missing?: 'by_design' | 'structural';
}
interface CodebookColumn {
  name: string;
  type: string;
  label: string;
  description: string;
  options?: CodebookOption[];
}
interface Codebook {
  columns: CodebookColumn[];
  missingCodes: { code: string; label: string; missing: 'by_design' | 'structural' }[];
}

const MISSING_TEXT = { by_design: 'saknas med avsikt', structural: 'strukturellt saknat' } as const;

/** Saves a fetched file: the bearer token cannot ride on a plain link, so the file is fetched first. */
function saveBlob(blob: Blob, filename: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportsPage() {
  const { session } = useSignedIn();
  const [municipalities, setMunicipalities] = useState<string[]>(session.municipalities.slice(0, 1));
  const [rounds, setRounds] = useState<string[]>([]);
  const [format, setFormat] = useState<(typeof FORMATS)[number]['value']>('csv');
  const [knownAt, setKnownAt] = useState<'close' | 'now'>('close');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  // Rounds of every chosen municipality; a round is exported under its label, which is shared across municipalities.
  const roundLists = useLoad(
    municipalities.length
      ? () => Promise.all(municipalities.map((c) => api<List<Round>>(m(c, '/rounds')).then((r) => r.data.items.map((x) => ({ ...x, municipality: c })))))
      : null,
    [municipalities.join(',')],
  );
  const allRounds = chronological((roundLists.data ?? []).flat());
  const codebook = useLoad(() => api<Codebook>('/api/v1/exports/codebook', { query: { municipalities } }).then((r) => r.data), [municipalities.join(',')]);

  const toggle = (list: string[], v: string) => (list.includes(v) ? list.filter((x) => x !== v) : [...list, v]);

  const run = async () => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const f = FORMATS.find((x) => x.value === format)!;
      const { blob, filename } = await download('/api/v1/exports/panel', { municipalities, rounds, format, knownAt }, f.accept);
      const name = filename ?? `vagen-panel-${municipalities.join('-')}.${f.ext}`;
      saveBlob(blob, name);
      setDone(`Filen ${name} (${Math.max(1, Math.round(blob.size / 1024))} kB) är hämtad.`);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageTitle title="Export för utvärdering" />
      <p className="lead">Paneldata: en rad per person och mätomgång, under en stabil pseudonym. Inga personnummer och ingen fritext lämnar tjänsten.</p>
      <form
        className="export-form"
        onSubmit={(e) => {
          e.preventDefault();
          void run();
        }}
      >
        <fieldset className="question compact">
          <legend>Kommuner</legend>
          <div className="options">
            {session.municipalities.map((c) => (
              <div className="option" key={c}>
                <input type="checkbox" id={`exp-m-${c}`} checked={municipalities.includes(c)} onChange={() => setMunicipalities((l) => toggle(l, c))} />
                <label htmlFor={`exp-m-${c}`}>{municipalityName(c)}</label>
              </div>
            ))}
          </div>
        </fieldset>
        <fieldset className="question compact">
          <legend>Mätomgångar</legend>
          <p className="hint" id="exp-rounds-hint">
            Ingen vald betyder alla stängda omgångar (med senare rättelser även öppna).
          </p>
          {roundLists.loading && <Loading what="Hämtar omgångar…" />}
          <ErrorMessage error={roundLists.error} />
          <div className="options">
            {[...new Set(allRounds.map((r) => r.label))].map((label) => (
              <div className="option" key={label}>
                <input type="checkbox" id={`exp-r-${label}`} checked={rounds.includes(label)} onChange={() => setRounds((l) => toggle(l, label))} aria-describedby="exp-rounds-hint" />
                <label htmlFor={`exp-r-${label}`}>{label}</label>
              </div>
            ))}
          </div>
        </fieldset>
        <fieldset className="question compact">
          <legend>Format</legend>
          <div className="options">
            {FORMATS.map((f) => (
              <div className="option" key={f.value}>
                <input type="radio" name="format" id={`exp-f-${f.value}`} checked={format === f.value} onChange={() => setFormat(f.value)} />
                <label htmlFor={`exp-f-${f.value}`}>{f.label}</label>
              </div>
            ))}
          </div>
        </fieldset>
        <fieldset className="question compact">
          <legend>Version av uppgifterna</legend>
          <div className="options">
            <div className="option">
              <input type="radio" name="knownAt" id="exp-k-close" checked={knownAt === 'close'} onChange={() => setKnownAt('close')} />
              <label htmlFor="exp-k-close">Som de var kända när omgången stängdes</label>
            </div>
            <div className="option">
              <input type="radio" name="knownAt" id="exp-k-now" checked={knownAt === 'now'} onChange={() => setKnownAt('now')} />
              <label htmlFor="exp-k-now">Med senare rättelser</label>
            </div>
          </div>
        </fieldset>
        <ErrorMessage error={error} />
        {done && <Success>{done}</Success>}
        <div className="actions">
          <button type="submit" disabled={busy || municipalities.length === 0}>
            {busy ? 'Hämtar…' : 'Hämta paneldata'}
          </button>
        </div>
      </form>

      <section aria-labelledby="codebook-heading">
        <h2 id="codebook-heading">Kodbok</h2>
        <p className="hint">”Vet ej” är ett avsiktligt svar (saknas med avsikt), inte ett tomt fält.</p>
        {codebook.loading && <Loading />}
        <ErrorMessage error={codebook.error} />
        {codebook.data && (
          <>
            <DataTable
              caption="Koder för saknade värden"
              rows={codebook.data.missingCodes}
              rowKey={(c) => c.code}
              columns={[
                { key: 'code', header: 'Kod', rowHeader: true, render: (c) => <code>{c.code}</code> },
                { key: 'label', header: 'Betydelse' },
                { key: 'missing', header: 'Slag', render: (c) => MISSING_TEXT[c.missing] },
              ]}
            />
            <DataTable
              caption="Kolumner i paneldata"
              testId="codebook"
              rows={codebook.data.columns}
              rowKey={(c) => c.name}
              columns={[
                { key: 'name', header: 'Kolumn', rowHeader: true, render: (c) => <code>{c.name}</code> },
                { key: 'type', header: 'Typ' },
                { key: 'label', header: 'Beskrivning', render: (c) => (
                  <>
                    <strong>{c.label}</strong>
                    {c.description ? ` – ${c.description}` : ''}
                  </>
                ) },
                {
                  key: 'options',
                  header: 'Värden',
                  render: (c) =>
                    c.options?.length ? (
                      <ul className="compact-list">
                        {c.options.map((o) => (
                          <li key={o.code}>
                            <code>{o.code}</code> {o.label}
                            {o.missing ? ` (${MISSING_TEXT[o.missing]})` : ''}
                          </li>
                        ))}
                      </ul>
                    ) : (
                      '–'
                    ),
                },
              ]}
            />
          </>
        )}
      </section>
    </>
  );
}
