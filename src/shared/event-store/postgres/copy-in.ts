import type { PoolClient } from 'pg';

/**
 * `COPY … FROM STDIN` over node-postgres without an extra package: a "submittable" query that
 * streams rows once the server asks for them (CopyInResponse). Rows are given as COPY text-format
 * lines (see copyText); they are sent in ~256 kB chunks, waiting for the socket to drain.
 */
interface PgConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
  stream: NodeJS.WritableStream & { writableNeedDrain?: boolean };
}

class CopyIn {
  callback?: (err: Error | null, result?: { rowCount: number }) => void;
  private rowCount = 0;
  private failed = false;

  constructor(
    readonly text: string,
    private readonly lines: Iterable<string>,
  ) {}

  submit(connection: PgConnection): null {
    connection.query(this.text);
    return null;
  }

  handleCopyInResponse(connection: PgConnection): void {
    void this.send(connection);
  }

  private async send(connection: PgConnection): Promise<void> {
    const CHUNK = 256 * 1024;
    let parts: string[] = [];
    let size = 0;
    try {
      for (const line of this.lines) {
        parts.push(line);
        size += line.length;
        if (size >= CHUNK) {
          connection.sendCopyFromChunk(Buffer.from(parts.join(''), 'utf8'));
          parts = [];
          size = 0;
          if (connection.stream.writableNeedDrain) await new Promise((r) => connection.stream.once('drain', r));
          if (this.failed) return;
        }
      }
      if (parts.length > 0) connection.sendCopyFromChunk(Buffer.from(parts.join(''), 'utf8'));
      connection.endCopyFrom();
    } catch (e) {
      // Makes the server abort the COPY; its error then reaches handleError.
      connection.sendCopyFail(String((e as Error).message ?? e));
    }
  }

  handleCommandComplete(msg: { text?: string }): void {
    const m = /COPY (\d+)/.exec(msg.text ?? '');
    if (m) this.rowCount = Number(m[1]);
  }

  handleError(err: Error): void {
    this.failed = true;
    const cb = this.callback;
    this.callback = undefined;
    cb?.(err);
  }

  handleReadyForQuery(): void {
    const cb = this.callback;
    this.callback = undefined;
    cb?.(null, { rowCount: this.rowCount });
  }

  handleRowDescription(): void {}
  handleDataRow(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyData(): void {}
}

/** Runs `COPY <table> (<columns>) FROM STDIN` with the given text-format lines; returns the row count. */
export function copyIn(client: PoolClient, sql: string, lines: Iterable<string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const q = new CopyIn(sql, lines);
    q.callback = (err, res) => (err ? reject(err) : resolve(res!.rowCount));
    (client as unknown as { query(q: CopyIn): void }).query(q);
  });
}

const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_G = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** A value in COPY text format (null → \N). */
export function copyText(value: string | number | null): string {
  if (value === null) return '\\N';
  const s = typeof value === 'number' ? String(value) : value;
  return SPECIAL.test(s) ? s.replace(SPECIAL_G, (c) => ESCAPES[c]) : s;
}
