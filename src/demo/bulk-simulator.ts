import { randomUUID } from 'node:crypto';
import type { BulkAppend, BulkAppendResult, EventStore, NewEvent } from '../shared/event-store/event-store.port.js';
import type { PersonVault } from '../shared/privacy/vault.js';
import { MunicipalityGenerator } from './municipality.generator.js';
import { TimelinePlayer, type PlayedStep } from './timeline.player.js';

/*
 * National scale through the store's bulk import. Each municipality's timeline (the same
 * generator as the demo) is played through the pure deciders (TimelinePlayer), so the events
 * are exactly what the command handlers would have written; they go to `appendBulk` in timeline
 * order, which keeps every RoundClosed after everything recorded before it (a round's frozen
 * snapshot is "every event with a lower position").
 *
 * Memory is bounded by one municipality: its people, its case states and one half year of its
 * steps; events leave in batches of `batchEvents`, one import in flight while the next batch is
 * generated. People are registered in the vault (key + encrypted personnummer) before their
 * first event, so the data reads back through the API like any other.
 *
 * Not written by the bulk import: inline projections (the store runs them only on `append`).
 * Rebuild them afterwards (the simulate tool does).
 */

export interface SimulationOptions {
  municipalities: number;
  /** People over the whole period, all municipalities together. */
  persons: number;
  /** Years of measurement rounds (two a year; the last round stays open). */
  years: number;
  seed: number;
  /** The last simulated day (YYYY-MM-DD). */
  today: string;
  /** `equal`: every municipality the same size; `realistic`: a few large, many small (Zipf-like). */
  sizes: 'equal' | 'realistic';
  /** First kommunkod; the others follow (9001…: no real municipality has a code starting with 9). */
  firstCode?: number;
  /** Events per bulk import. */
  batchEvents?: number;
  /** Concurrent vault registrations. */
  registerConcurrency?: number;
}

export interface SimulationProgress {
  municipality: string;
  index: number;
  municipalities: number;
  persons: number;
  events: number;
  elapsedMs: number;
}

export interface SimulationFigures {
  municipalities: number;
  persons: number;
  events: number;
  eventsByType: Record<string, number>;
  streams: number;
  /** Wall time of the whole run. */
  elapsedMs: number;
  /** Time spent waiting for bulk imports to commit (the rest overlapped with generation). */
  appendWaitMs: number;
  /** Sum of the imports' own durations. */
  appendMs: number;
  vaultMs: number;
  firstPosition: number;
  lastPosition: number;
  codes: string[];
}

/** People per municipality, summing to `persons`. */
export function municipalitySizes(options: Pick<SimulationOptions, 'municipalities' | 'persons' | 'sizes'>): number[] {
  const n = options.municipalities;
  // Zipf with an offset: the largest of 290 gets about 7 % (Stockholm has about a tenth of the
  // people on assistance), the median a little under a third of a percent.
  const weights = Array.from({ length: n }, (_, i) => (options.sizes === 'equal' ? 1 : 1 / (i + 2)));
  const total = weights.reduce((a, b) => a + b, 0);
  const sizes = weights.map((w) => Math.floor((options.persons * w) / total));
  let rest = options.persons - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; rest > 0; i = (i + 1) % n, rest--) sizes[i]!++;
  return sizes;
}

export async function simulate(
  deps: { store: EventStore; vault: PersonVault; onProgress?: (p: SimulationProgress) => void },
  options: SimulationOptions,
): Promise<SimulationFigures> {
  const started = performance.now();
  const rounds = Math.max(1, Math.round(options.years * 2));
  const ratio = personsPerOpenCase(rounds, options.today, options.seed);
  const sizes = municipalitySizes(options);
  const batchEvents = options.batchEvents ?? 20_000;
  const figures: SimulationFigures = {
    municipalities: options.municipalities,
    persons: 0,
    events: 0,
    eventsByType: {},
    streams: 0,
    elapsedMs: 0,
    appendWaitMs: 0,
    appendMs: 0,
    vaultMs: 0,
    firstPosition: 0,
    lastPosition: 0,
    codes: [],
  };

  let buffer: BulkAppend[] = [];
  let buffered = 0;
  let inFlight: Promise<BulkAppendResult> | undefined;
  const settle = async () => {
    if (!inFlight) return;
    const waitStarted = performance.now();
    const result = await inFlight;
    figures.appendWaitMs += performance.now() - waitStarted;
    inFlight = undefined;
    if (figures.firstPosition === 0) figures.firstPosition = result.firstPosition;
    figures.lastPosition = result.lastPosition;
  };
  const flush = async () => {
    if (buffer.length === 0) return;
    await settle();
    const batch = buffer;
    buffer = [];
    buffered = 0;
    const importStarted = performance.now();
    inFlight = deps.store.appendBulk(batch).then((r) => {
      figures.appendMs += performance.now() - importStarted;
      return r;
    });
    // A failed import must not surface as an unhandled rejection before `settle` awaits it.
    inFlight.catch(() => undefined);
  };
  const add = (played: PlayedStep, tenant: string) => {
    const events: NewEvent[] = played.events.map((e) => ({ type: e.type, schemaVersion: e.schemaVersion, data: e.data as unknown as Record<string, unknown>, metadata: e.metadata }));
    for (const e of played.events) figures.eventsByType[e.type] = (figures.eventsByType[e.type] ?? 0) + 1;
    figures.events += events.length;
    if (played.fromVersion === 0) figures.streams++;
    const last = buffer[buffer.length - 1];
    // Consecutive steps of one stream travel as one entry (the store checks its version once).
    if (last && last.stream === played.stream) last.events.push(...events);
    else buffer.push({ stream: played.stream, tenant, expectedVersion: played.fromVersion === 0 ? 'no_stream' : played.fromVersion, events });
    buffered += events.length;
  };

  for (let m = 0; m < options.municipalities; m++) {
    const code = String((options.firstCode ?? 9001) + m);
    if (!/^\d{4}$/.test(code)) throw new Error(`Municipality code ${code} is not four digits: lower --first-code or the number of municipalities`);
    figures.codes.push(code);
    const generator = new MunicipalityGenerator({
      seed: options.seed,
      municipality: code,
      today: options.today,
      rounds,
      openCases: Math.max(3, Math.round(sizes[m]! / ratio)),
      historyYears: 10,
      actorPrefix: `sim-${code}`,
    });
    const player = new TimelinePlayer({
      municipality: code,
      pseudonym: (pin) => deps.vault.pseudonym(code, pin),
      seal: (pseudonym, text) => deps.vault.encryptFor(code, pseudonym, text),
      newId: randomUUID,
    });
    for (const period of generator.periods()) {
      // Everyone who appears in this half year gets their key first: reasons are sealed with it.
      const pins = period.steps.flatMap((s) => (s.command === 'RegisterCase' ? [s.body.personalIdentityNumber] : []));
      const vaultStarted = performance.now();
      await forEachConcurrently(pins, options.registerConcurrency ?? 8, (pin) => deps.vault.registerPerson(code, pin));
      figures.vaultMs += performance.now() - vaultStarted;
      figures.persons += pins.length;
      for (const step of period.steps) {
        const played = await player.play(step);
        if (played.events.length > 0) add(played, code);
        if (buffered >= batchEvents) await flush();
      }
    }
    deps.onProgress?.({ municipality: code, index: m + 1, municipalities: options.municipalities, persons: figures.persons, events: figures.events, elapsedMs: performance.now() - started });
  }
  await flush();
  await settle();
  figures.elapsedMs = performance.now() - started;
  return figures;
}

/**
 * How many people one open case on the first reference date brings over the whole period
 * (arrivals, minus those who come back): measured on a probe municipality rather than derived,
 * because closures, reopenings and arrivals depend on each other.
 */
export function personsPerOpenCase(rounds: number, today: string, seed: number): number {
  const probe = 400;
  let persons = 0;
  for (const period of new MunicipalityGenerator({ seed, municipality: '0000', today, rounds, openCases: probe }).periods()) {
    for (const s of period.steps) if (s.command === 'RegisterCase') persons++;
  }
  return persons / probe;
}

async function forEachConcurrently<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}
