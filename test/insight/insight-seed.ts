import { randomUUID } from 'node:crypto';
import type { EventStore, NewEvent } from '../../src/shared/event-store/event-store.port.js';
import { streams } from '../../src/shared/streams.js';
import type { SyntheticLog } from '../../src/insight/testing/synthetic-municipality.js';

/**
 * Seeding the insight read side straight through the event store, with events shaped as the
 * domain decides them (case.events.ts, round.events.ts). Projection tests need no HTTP.
 */
export function newEvent(type: string, data: Record<string, unknown>, effectiveDate: string, actor = 'cw-1'): NewEvent {
  return { type, schemaVersion: 1, data, metadata: { actor, effectiveDate } };
}

export class Seeder {
  constructor(
    readonly store: EventStore,
    readonly municipality = '2281',
  ) {}

  async append(stream: string, ...events: NewEvent[]): Promise<number> {
    const r = await this.store.append(stream, events, { expectedVersion: 'any', tenant: this.municipality });
    return r.lastPosition;
  }

  async openRound(label: string, referenceDate: string, roundId = randomUUID()): Promise<{ roundId: string; position: number }> {
    const position = await this.append(streams.rounds(this.municipality), newEvent('RoundOpened', { roundId, label, referenceDate, questionnaireVersion: 1 }, referenceDate, 'po-1'));
    return { roundId, position };
  }

  closeRound(roundId: string, on: string): Promise<number> {
    return this.append(streams.rounds(this.municipality), newEvent('RoundClosed', { roundId }, on, 'po-1'));
  }

  caseStream(caseId: string): string {
    return streams.case(this.municipality, caseId);
  }

  async register(
    opts: { caseId?: string; pseudonym?: string; gender?: string; unit?: string; on?: string; birthYear?: number; bornAbroad?: string; children?: number | 'unknown' } = {},
  ): Promise<string> {
    const caseId = opts.caseId ?? randomUUID();
    await this.append(
      this.caseStream(caseId),
      newEvent(
        'CaseRegistered',
        {
          caseId,
          pseudonym: opts.pseudonym ?? `ps-${caseId.slice(0, 8)}`,
          birthYear: opts.birthYear ?? 1980,
          gender: opts.gender ?? 'female',
          bornAbroad: opts.bornAbroad ?? 'no',
          childrenInHousehold: opts.children ?? 0,
          unit: opts.unit ?? 'forsorjningsstod',
        },
        opts.on ?? '2025-01-15',
      ),
    );
    return caseId;
  }

  async caseEvent(caseId: string, type: string, data: Record<string, unknown>, effectiveDate: string, actor = 'cw-1'): Promise<number> {
    return this.append(this.caseStream(caseId), newEvent(type, data, effectiveDate, actor));
  }
}

/** Appends a synthetic municipality step by step (bulk), returning the last position. */
export async function appendSynthetic(store: EventStore, log: SyntheticLog): Promise<number> {
  let last = 0;
  for (const step of log.steps) {
    const byStream = new Map<string, { tenant: string; events: NewEvent[] }>();
    for (const s of step) {
      const entry = byStream.get(s.stream) ?? { tenant: s.tenant, events: [] };
      entry.events.push(s.event);
      byStream.set(s.stream, entry);
    }
    const r = await store.appendBulk([...byStream].map(([stream, v]) => ({ stream, tenant: v.tenant, expectedVersion: 'any' as const, events: v.events })));
    last = r.lastPosition;
  }
  return last;
}
