import type { RunningApp } from './app.factory.js';
import type { ResolvedConfig } from './config/config.js';
import { DEMO_MUNICIPALITY, demoExamples, seedDemo } from './demo/demo.seed.js';
import { signDevToken } from './shared/auth/dev-token.js';
import { stockholmDate } from './shared/time/calendar.js';

/**
 * Work done once the server listens: with DEMO on (the default outside tests), municipality 2281
 * is seeded through the real command handlers unless it already has data, and three example
 * requests are printed. `main.ts` prints the demo tokens after this.
 */
export async function onStarted(app: RunningApp, config: ResolvedConfig, baseUrl: string, log: (line: string) => void = console.log): Promise<void> {
  if (!config.demo) return;
  // Invented people must never land in a real municipality's data.
  if (config.nodeEnv === 'production') {
    log('Demo data is not loaded under NODE_ENV=production (DEMO is ignored there).');
    return;
  }
  log(`\nDemo: seeding municipality ${DEMO_MUNICIPALITY} unless it has data (DEMO=false turns this off)…`);
  const seeded = await seedDemo(app.app, { today: stockholmDate(), log });
  if (seeded) {
    const rounds = seeded.rounds.map((r) => `${r.label} (${r.open ? 'open' : 'closed'})`).join(', ');
    log(`Demo: ${seeded.cases} cases, rounds ${rounds}; ${seeded.steps} steps as ${seeded.commands} commands through the real handlers in ${(seeded.ms / 1000).toFixed(1)} s.`);
  } else {
    log(`Demo: municipality ${DEMO_MUNICIPALITY} already has data; left as it is.`);
  }
  const examples = await demoExamples(app.app, baseUrl);
  if (examples.length === 0) return;
  log('\nTry it:');
  if (config.auth.jwtSecret) {
    const token = (role: 'caseworker' | 'process_owner') =>
      signDevToken(config.auth.jwtSecret!, { sub: `demo-${role}`, name: `Demo ${role}`, roles: [role], municipalities: [DEMO_MUNICIPALITY] });
    log(`  export CASEWORKER=${await token('caseworker')}`);
    log(`  export PROCESS_OWNER=${await token('process_owner')}`);
  }
  for (const line of examples) log(`  ${line}`);
}
