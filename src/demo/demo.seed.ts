import type { INestApplicationContext } from '@nestjs/common';
import { CommandBus } from '@nestjs/cqrs';
import { MunicipalityStreams } from '../rounds/municipality-streams.js';
import { EVENT_STORE, type EventStore } from '../shared/event-store/event-store.port.js';
import { generateTimeline, planRounds } from './municipality.generator.js';
import { TimelineRunner } from './timeline.runner.js';

/** Sundsvall, the municipality of the demo (any kommunkod works; the printed tokens hold this one). */
export const DEMO_MUNICIPALITY = '2281';
/** The demo is the same municipality for everyone on a given day. */
const DEMO_SEED = 2281;

export interface DemoSeedResult {
  /** Timeline steps (requests a municipality's staff would have made). */
  steps: number;
  /** Commands sent: a case's benefit months between rounds travel as one. */
  commands: number;
  cases: number;
  rounds: { label: string; referenceDate: string; open: boolean }[];
  ms: number;
  lastPosition: number;
}

/** True when the municipality already has any event: the demo never writes into existing data. */
export async function hasData(app: INestApplicationContext, municipality = DEMO_MUNICIPALITY): Promise<boolean> {
  const store = app.get<EventStore>(EVENT_STORE);
  for await (const batch of store.readAll({ tenants: [municipality], batchSize: 1 })) {
    if (batch.length > 0) return true;
  }
  return false;
}

/**
 * Seeds the demo municipality: about 270 open cases, two closed rounds and one open round whose
 * reference date was ten days ago (about half assessed), ten years of benefit months. Every step
 * goes through the CommandBus. Returns null when the municipality already has data.
 */
export async function seedDemo(
  app: INestApplicationContext,
  options: { today: string; municipality?: string; log?: (line: string) => void },
): Promise<DemoSeedResult | null> {
  const municipality = options.municipality ?? DEMO_MUNICIPALITY;
  if (await hasData(app, municipality)) return null;
  const started = performance.now();
  const generatorOptions = { seed: DEMO_SEED, municipality, today: options.today, rounds: 3, openCases: 270 };
  const steps = generateTimeline(generatorOptions);
  const runner = new TimelineRunner(app.get(CommandBus), municipality, {
    concurrency: 8,
    onProgress: ({ done, total }) => options.log?.(`  demo data: ${done}/${total} commands`),
  });
  await runner.run(steps);
  return {
    steps: steps.length,
    commands: runner.commandsSent,
    cases: steps.filter((s) => s.command === 'RegisterCase').length,
    rounds: planRounds(generatorOptions).map((r) => ({ label: r.label, referenceDate: r.referenceDate, open: r.closes === null })),
    ms: Math.round(performance.now() - started),
    lastPosition: runner.lastPosition,
  };
}

/**
 * Three requests to try, with ids from the data as it is (fresh or from an earlier start): the
 * flow between the two closed rounds, the open round's statistics, one case.
 */
export async function demoExamples(app: INestApplicationContext, baseUrl: string, municipality = DEMO_MUNICIPALITY): Promise<string[]> {
  const { state } = await app.get(MunicipalityStreams).rounds(municipality);
  const rounds = Object.values(state.rounds).sort((a, b) => (a.referenceDate < b.referenceDate ? -1 : 1));
  const closed = rounds.filter((r) => r.status === 'closed');
  // A closed round: everyone assessed, so its shares tell the seed's story (mental ill-health
  // first) with few cells hidden; the open one is half done.
  const latest = closed[closed.length - 1] ?? rounds[rounds.length - 1];
  const store = app.get<EventStore>(EVENT_STORE);
  let caseId: string | undefined;
  for await (const batch of store.readAll({ tenants: [municipality], types: ['CaseRegistered'], batchSize: 1 })) {
    caseId = (batch[0]?.data as { caseId?: string } | undefined)?.caseId;
    break;
  }
  const api = `${baseUrl}/api/v1/municipalities/${municipality}`;
  const lines: string[] = [];
  if (closed.length >= 2) {
    const [from, to] = closed.slice(-2) as [(typeof closed)[number], (typeof closed)[number]];
    lines.push(`# Flow between ${from.label} and ${to.label} (process owner)`, `curl -s -H "Authorization: Bearer $PROCESS_OWNER" '${api}/flows?fromRound=${from.roundId}&toRound=${to.roundId}'`);
  }
  if (latest) {
    lines.push(`# Statistics of round ${latest.label} by unit (process owner; counts below 5 hidden)`, `curl -s -H "Authorization: Bearer $PROCESS_OWNER" '${api}/rounds/${latest.roundId}/statistics?by=unit'`);
  }
  if (caseId) lines.push('# One case, with its personnummer (caseworker; the read is logged)', `curl -s -H "Authorization: Bearer $CASEWORKER" '${api}/cases/${caseId}'`);
  return lines;
}
