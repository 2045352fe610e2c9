import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/**
 * Every run takes the screenshots (both widths); they replace the README's in docs/screenshots
 * only with UPDATE_SCREENSHOTS=1, so an ordinary test run leaves the working tree clean.
 */
export const SCREENSHOT_DIR = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(root, 'docs', 'screenshots') : path.join(root, 'dist', 'screenshots');

/** Debian's Chromium (`apt-get install -y chromium`; .ci/run installs it). CHROMIUM_PATH overrides. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Fails loudly when Chromium is missing: a browser test that skips itself would report green
 * while testing nothing.
 */
export async function launchBrowser(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}. Install it with "apt-get install -y chromium" (.ci/run does) or set CHROMIUM_PATH.`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors, page errors and CSP violations seen so far. */
  problems: string[];
}

/** A fresh context (own sessionStorage) whose page reports console errors, CSP violations and uncaught errors. */
export async function openPage(browser: Browser, baseURL: string, width = 1280, height = 900): Promise<WatchedPage> {
  const context = await browser.newContext({ baseURL, viewport: { width, height }, locale: 'sv-SE', timezoneId: 'Europe/Stockholm', acceptDownloads: true });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (m) => {
    // Failed API calls the page handles itself (e.g. a 404 it shows as a message) log as console errors too.
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return { page, context, problems };
}

const axeSource: string = require('axe-core').source;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/**
 * Runs axe-core in the page against WCAG 2.0/2.1 A and AA (and axe's best practices). The
 * source is evaluated through the DevTools protocol, which the page's CSP does not govern, so
 * the test does not have to weaken the policy it also checks.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  // Written without DOM globals: this file is also compiled by the server project (no DOM lib).
  const result = (await page.evaluate(async () => {
    const g = globalThis as unknown as { axe: { run: (ctx: unknown, opts: unknown) => Promise<{ violations: unknown[] }> }; document: unknown };
    return g.axe.run(g.document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] }, resultTypes: ['violations'] });
  })) as { violations: AxeViolation[] };
  return result.violations;
}

export function describeViolations(v: AxeViolation[]): string {
  return v.map((x) => `${x.id} (${x.impact}): ${x.help}\n${x.nodes.map((n) => `   ${n.target.join(' ')} ${n.failureSummary ?? ''}`).join('\n')}`).join('\n');
}

/**
 * Screenshots at a desktop width and a tablet width (portrait iPad: 768 px), the whole page down
 * to `maxHeight` (the statistics page is many screens long; its top tells the story).
 */
export async function screenshots(page: Page, name: string, maxHeight = 3200): Promise<void> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  // Charts load ECharts on first use and draw asynchronously.
  await page.waitForFunction("[...document.querySelectorAll('.chart')].every((c) => c.dataset.rendered === 'true')");
  const original = page.viewportSize()!;
  for (const [suffix, width] of [['1280', 1280], ['tablet', 768]] as const) {
    await page.setViewportSize({ width, height: 1000 });
    await page.waitForTimeout(150); // charts resize on a ResizeObserver
    const height = Math.min(maxHeight, await page.evaluate<number>('document.documentElement.scrollHeight'));
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}-${suffix}.png`), fullPage: true, clip: { x: 0, y: 0, width, height } });
  }
  await page.setViewportSize(original);
}

/** Signs in on the demo sign-in page by clicking the user's button, the way a person would. */
export async function signInAsDemoUser(page: Page, name: string | RegExp): Promise<void> {
  await page.goto('/logga-in');
  await page.getByRole('button', { name }).click();
  await page.waitForURL((u) => !u.pathname.startsWith('/logga-in'));
}
