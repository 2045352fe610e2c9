import type { ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: ReactNode;
  numeric?: boolean;
  /** The cell that names the row (a <th scope="row">). */
  rowHeader?: boolean;
  render?: (row: T) => ReactNode;
}

/** A data table with caption and header scopes; it scrolls sideways on narrow screens and can then be reached with Tab. */
export function DataTable<T>({ caption, columns, rows, rowKey, empty = 'Inga rader.', testId }: {
  caption: ReactNode;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T, index: number) => string;
  empty?: string;
  testId?: string;
}) {
  const label = typeof caption === 'string' ? caption : undefined;
  return (
    <div className="table-wrap" role="region" aria-label={label ?? 'Tabell'} tabIndex={0}>
      <table data-testid={testId}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.key} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.length === 0 ? (
            <tr>
              <td colSpan={columns.length}>{empty}</td>
            </tr>
          ) : (
            rows.map((row, i) => (
              <tr key={rowKey(row, i)}>
                {columns.map((c) => {
                  const content = c.render ? c.render(row) : String((row as Record<string, unknown>)[c.key] ?? '–');
                  return c.rowHeader ? (
                    <th key={c.key} scope="row">
                      {content}
                    </th>
                  ) : (
                    <td key={c.key} className={c.numeric ? 'num' : undefined}>
                      {content}
                    </td>
                  );
                })}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}
