import { readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { QUESTIONNAIRE_V1 } from '../../src/questionnaires/questionnaire.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { axeViolations, describeViolations, launchBrowser, openPage, screenshots, signInAsDemoUser, type WatchedPage } from './support/browser.js';
import { ensureWebBuilt } from './support/build-web.js';
import { CODE, Seeder, type Story } from './support/seed.js';

/** Presses Tab until the focused element matches, like a keyboard user looking for it. */
async function tabTo(page: Page, matches: (el: { tag: string; text: string; href: string | null; name: string | null }) => boolean, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const el = await page.evaluate(() => {
      const a = document.activeElement as HTMLElement | null;
      return { tag: a?.tagName ?? '', text: a?.innerText ?? '', href: a?.getAttribute('href') ?? null, name: a?.getAttribute('name') ?? null };
    });
    if (matches(el)) return;
  }
  throw new Error('Tab never reached the element');
}

/** Zero axe violations at the desktop width and at a tablet width. */
async function expectAccessible(page: Page): Promise<void> {
  expect(describeViolations(await axeViolations(page))).toBe('');
  const size = page.viewportSize()!;
  await page.setViewportSize({ width: 768, height: 1000 });
  expect(describeViolations(await axeViolations(page))).toBe('');
  await page.setViewportSize(size);
}

/**
 * The web interface in Chromium against the real service and PostgreSQL, data seeded through
 * the public API: a caseworker's registration day done with the keyboard only, a process
 * owner's Sankey between two rounds, an evaluator's CSV export. Every page is checked with
 * axe-core (zero violations) and photographed for the README.
 */
describe('web interface in a real browser', () => {
  let t: TestApp;
  let browser: Browser;
  let story: Story;
  let seeder: Seeder;
  let cw: string;
  const api = (path: string, token: string) => t.http().get(`/api/v1/municipalities/${CODE}${path}`).set('authorization', `Bearer ${token}`);

  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestApp({ label: 'webui' });
    browser = await launchBrowser();
    seeder = new Seeder(t);
    story = await seeder.seedStory();
    cw = (await seeder.tokens()).cw;
  }, 240_000);
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  describe('caseworker on registration day', () => {
    let w: WatchedPage;
    beforeAll(async () => {
      w = await openPage(browser, t.url);
    });
    afterAll(() => w.context.close());

    it('signs in as a demo caseworker and lands on the open round with its progress', async () => {
      const { page } = w;
      await page.goto('/');
      await page.getByRole('heading', { name: 'Logga in', level: 1 }).waitFor();
      await expectAccessible(page);
      await screenshots(page, 'sign-in');
      await signInAsDemoUser(page, /Anna Lindqvist/);
      await page.waitForURL(`**/registreringsdag/${story.roundB.id}`);
      await page.getByTestId('round-progress').getByText('0 av 15 ärenden bedömda').waitFor();
      expect(await page.getByTestId('round-progress').innerText()).toMatch(/15 kvar/);
      await expectAccessible(page);
    });

    it('completes an assessment with the keyboard only, "Vet ej" one keystroke away, and sees the progress update', async () => {
      const { page } = w;
      // Tab to the first case in the list, open it with Enter.
      await tabTo(page, (el) => el.tag === 'A' && !!el.href?.startsWith(`/registreringsdag/${story.roundB.id}/`));
      const caseId = (await page.evaluate(() => document.activeElement!.getAttribute('href')!)).split('/').pop()!;
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: /^Bedömning:/ }).waitFor();
      // Focus is on the first question, ready to type.
      await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'education');

      const expected: Record<string, string | string[]> = {};
      for (const [i, q] of QUESTIONNAIRE_V1.questions.entries()) {
        const numbered = q.options.filter((o) => o.code !== 'unknown');
        expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe(q.key);
        if (i % 4 === 3) {
          await page.keyboard.press(i % 8 === 3 ? 'v' : '0'); // "Vet ej": one key, and on to the next question
          expected[q.key] = q.type === 'multi' ? ['unknown'] : 'unknown';
        } else if (q.type === 'single') {
          await page.keyboard.press('2'); // choose and move on
          expected[q.key] = numbered[1]!.code;
        } else {
          await page.keyboard.press('2');
          await page.keyboard.press('3'); // several choices…
          await page.keyboard.press('Enter'); // …then on
          expected[q.key] = [numbered[1]!.code, numbered[2]!.code];
        }
      }
      expect(await page.evaluate(() => (document.activeElement as HTMLInputElement).name)).toBe('priority');
      await page.keyboard.press('1'); // Hög
      await screenshots(page, 'registration-day');
      await expectAccessible(page);
      await page.keyboard.press('Control+Enter');

      await page.getByText('Bedömningen är sparad.').waitFor();
      await page.getByTestId('round-progress').getByText('1 av 15 ärenden bedömda').waitFor();
      expect(await page.getByTestId('round-progress').innerText()).toMatch(/14 kvar/);
      // Focus waits on the next case: Enter continues.
      expect(await page.evaluate(() => document.activeElement?.textContent ?? '')).toMatch(/^Bedöm nästa ärende/);

      const saved = await api(`/cases/${caseId}`, cw);
      expect(saved.body.assessments[story.roundB.id].answers).toEqual(expected);
      expect(saved.body.priorityByRound[story.roundB.id]).toBe('high');
      expect(w.problems).toEqual([]);
    });

    it('shows what changed when someone else changed the case meanwhile (412), and saves on the new version', async () => {
      const { page } = w;
      await page.keyboard.press('Enter'); // "Bedöm nästa ärende"
      await page.getByRole('heading', { name: /^Bedömning:/ }).waitFor();
      const caseId = page.url().split('/').pop()!;
      await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'education');
      // A colleague moves the case to another unit while the form is open (dated after the
      // round's reference date, so the rounds' flow stays as seeded).
      const today = new Date().toISOString().slice(0, 10);
      await seeder.command(cw, caseId, '/transfers', { toUnit: 'rehabilitering-och-utveckling', effectiveDate: today });
      for (let i = 0; i < QUESTIONNAIRE_V1.questions.length; i++) await page.keyboard.press('0');
      await page.keyboard.press('2');
      await page.keyboard.press('Control+Enter');
      const changes = page.getByTestId('conflict-changes');
      await changes.waitFor();
      expect(await changes.innerText()).toMatch(new RegExp(`Flyttat till annan enhet, gäller från ${today}.*seed-caseworker`));
      await expectAccessible(page);
      await page.getByRole('button', { name: 'Spara mina svar på den nya versionen' }).click();
      await page.getByTestId('round-progress').getByText('2 av 15 ärenden bedömda').waitFor();
      const history = await api(`/cases/${caseId}/history`, cw);
      const assessments = history.body.items.filter((e: { type: string; data: { roundId: string } }) => e.type === 'AssessmentRecorded' && e.data.roundId === story.roundB.id);
      expect(assessments).toHaveLength(1);
      expect(assessments[0].version).toBeGreaterThan(history.body.items.find((e: { type: string }) => e.type === 'CaseTransferred').version);
    });

    it('records a double-clicked save once', async () => {
      const { page } = w;
      await page.getByRole('link', { name: /^Bedöm nästa ärende/ }).waitFor();
      await page.keyboard.press('Enter');
      await page.getByRole('heading', { name: /^Bedömning:/ }).waitFor();
      const caseId = page.url().split('/').pop()!;
      await page.waitForFunction(() => (document.activeElement as HTMLInputElement | null)?.name === 'education');
      for (let i = 0; i < QUESTIONNAIRE_V1.questions.length; i++) await page.keyboard.press('v');
      await page.keyboard.press('3');
      await page.getByRole('button', { name: 'Spara bedömning' }).dblclick();
      await page.getByTestId('round-progress').getByText('3 av 15 ärenden bedömda').waitFor();
      const history = await api(`/cases/${caseId}/history`, cw);
      const inRoundB = (type: string) => history.body.items.filter((e: { type: string; data: { roundId: string } }) => e.type === type && e.data.roundId === story.roundB.id);
      expect(inRoundB('AssessmentRecorded')).toHaveLength(1);
      expect(inRoundB('PrioritySet')).toHaveLength(1);
      expect(w.problems).toEqual([]);
    });

    it('shows a case with its background and timeline, and records a transfer, a correction with reason and an intervention end from the page', async () => {
      const { page } = w;
      await page.goto(`/arenden/${story.stayed[0]}`);
      await page.getByRole('heading', { name: 'Händelser' }).waitFor();
      const timeline = page.getByTestId('timeline');
      await timeline.getByText('Insats påbörjad').waitFor();
      expect(await timeline.getByRole('row').count()).toBeGreaterThan(6);
      // Effective date, then recorded date and time (Europe/Stockholm).
      expect(await timeline.innerText()).toMatch(/Bedömning registrerad\s+\d{4}-\d{2}-\d{2}\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}/);
      expect(await timeline.innerText()).toMatch(/Insats påbörjad\s+2025-03-01/);
      await expectAccessible(page);
      await screenshots(page, 'case');
      await page.getByLabel('Till enhet').selectOption('vuxenstod');
      await page.getByRole('button', { name: 'Flytta ärendet' }).click();
      // (The case may already have a transfer: the 412 test above may have picked it.)
      await timeline.getByText(/→ Vuxenstöd$/).waitFor();
      expect(await timeline.innerText()).toMatch(/Flyttat till annan enhet\s+\d{4}-\d{2}-\d{2}\s+[\d: -]+\s+demo-caseworker-2281\s+(Försörjningsstöd|Rehabilitering och Utveckling) → Vuxenstöd/);
      // A correction of the 2025-H1 assessment, with its reason.
      await page.getByLabel('Fråga').selectOption('education');
      await page.getByRole('group', { name: 'Nytt svar' }).getByLabel('Gymnasieskola').check();
      await page.getByLabel('Anledning till rättelsen').fill('Fel i underlaget vid registreringsdagen');
      await page.getByRole('button', { name: 'Spara rättelse' }).click();
      await timeline.getByText('Bedömning rättad').waitFor();
      expect(await page.getByRole('list', { name: 'Rättelser i 2025-H1' }).innerText()).toMatch(/Högsta avslutade utbildning → Gymnasieskola\. Anledning: Fel i underlaget vid registreringsdagen/);
      // The intervention started in March ends.
      await page.getByLabel('Utfall').selectOption('completed');
      await page.getByRole('button', { name: 'Avsluta insatsen' }).click();
      await timeline.getByText('Insats avslutad').waitFor();
      const c = await api(`/cases/${story.stayed[0]}`, cw);
      expect(c.body.assessments[story.roundA.id].answers.education).toBe('upper_secondary');
      expect(c.body.assessments[story.roundA.id].originalAnswers.education).toBe('unknown');
      expect(c.body.interventions[0]).toMatchObject({ type: 'language_coach', outcome: 'completed' });
      await expectAccessible(page);
      await page.goto('/arenden');
      await page.getByRole('heading', { name: 'Ärenden', level: 1 }).waitFor();
      await page.getByRole('link', { name: /^\d{8}-\d{4}$/ }).first().waitFor();
      await expectAccessible(page);
      await screenshots(page, 'cases');
      expect(w.problems).toEqual([]);
    });
  });

  describe('process owner at the analysis seminar', () => {
    let w: WatchedPage;
    beforeAll(async () => {
      // The rest of round 2025-H2 is assessed, and both rounds are closed.
      const { po } = await seeder.tokens();
      const remaining = await api(`/cases?roundId=${story.roundB.id}&assessed=false&limit=500&minPosition=${seeder.position}`, cw);
      for (const [i, c] of (remaining.body.items as { id: string }[]).entries()) await seeder.assess(cw, c.id, story.roundB.id, i + 3);
      await seeder.closeRound(po, story.roundA.id);
      await seeder.closeRound(po, story.roundB.id);
      w = await openPage(browser, t.url);
    }, 120_000);
    afterAll(() => w.context.close());

    it('sees the Sankey between the two rounds with the expected totals, and the numbers beside it', async () => {
      const { page } = w;
      await signInAsDemoUser(page, /Maria Sjöberg/);
      await page.waitForURL('**/flode');
      await page.getByTestId('flow-total').waitFor();
      expect(await page.getByTestId('flow-total').innerText()).toBe('Totalt 20 ärenden i flödet.');
      const sankey = page.getByTestId('sankey');
      expect(await sankey.getAttribute('aria-label')).toMatch(/20 ärenden från 2025-H1 till 2025-H2/);
      await sankey.locator('canvas').waitFor();
      expect(await sankey.locator('canvas').count()).toBe(1);
      const rows = await page.getByTestId('flow-table').locator('tbody tr').evaluateAll((trs) => trs.map((tr) => (tr as HTMLElement).innerText.split('\t').map((s) => s.trim())));
      expect(rows).toEqual([
        ['Försörjningsstöd', 'Försörjningsstöd', '5'],
        ['Försörjningsstöd', 'Vuxenstöd', '5'],
        ['Försörjningsstöd', 'Avslutat: Arbete', '5'],
        ['Nya ärenden', 'Arbete och Integration', '5'],
      ]);
      expect(await page.getByTestId('flow-by-source').innerText()).toMatch(/Försörjningsstöd\s+15/);
      await expectAccessible(page);
      await screenshots(page, 'flow');
      expect(w.problems).toEqual([]);
    });

    it('sees round statistics with a table for every chart, and builds a crosstab', async () => {
      const { page } = w;
      await page.getByRole('link', { name: 'Statistik' }).click();
      await page.getByRole('heading', { name: 'Statistik per mätomgång' }).waitFor();
      await page.getByRole('heading', { name: /^Frågor/ }).waitFor();
      // Everything loaded: comparison with 2025-H1 and the benefit-duration table too.
      await page.getByRole('table', { name: /Största förändringarna, 2025-H1 → 2025-H2/ }).waitFor();
      await page.getByTestId('benefit-duration').waitFor();
      expect(await page.getByTestId('benefit-duration').locator('tbody tr').count()).toBe(4);
      const charts = await page.locator('.chart').count();
      expect(charts).toBeGreaterThan(5);
      expect(await page.locator('.chart-with-table').count()).toBe(charts);
      for (const c of await page.locator('.chart-with-table').all()) expect(await c.locator('table').count()).toBe(1);
      await page.getByLabel('Rader').selectOption('mentalHealth');
      await page.getByLabel('Kolumner').selectOption('unit');
      await page.getByRole('button', { name: 'Visa korstabell' }).click();
      await page.getByTestId('crosstab').waitFor();
      await expectAccessible(page);
      await screenshots(page, 'statistics');
      await page.getByRole('link', { name: 'Mätomgångar' }).click();
      await page.getByRole('heading', { name: 'Mätomgångar', level: 1 }).waitFor();
      await page.getByRole('cell', { name: '2025-H2' }).or(page.getByRole('rowheader', { name: '2025-H2' })).waitFor();
      await expectAccessible(page);
      await screenshots(page, 'rounds');
      expect(w.problems).toEqual([]);
    });
  });

  describe('evaluator', () => {
    it('downloads a CSV export of both rounds, with the codebook beside it', async () => {
      const w = await openPage(browser, t.url);
      const { page } = w;
      await signInAsDemoUser(page, /Johan Ek/);
      await page.waitForURL('**/export');
      await page.getByTestId('codebook').waitFor();
      await page.getByLabel('CSV (kommaseparerad, UTF-8)').check();
      await expectAccessible(page);
      await screenshots(page, 'exports');
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Hämta paneldata' }).click()]);
      const csv = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
      expect(download.suggestedFilename()).toMatch(/\.csv$/);
      expect(csv[0]).toMatch(/^"?pseudonym"?,/);
      for (const column of ['municipality', 'roundId', 'round', 'unit', 'priority', 'education', 'mentalHealth']) expect(csv[0]).toContain(column);
      // Header, then one row per person per round from their first round on: 15 in 2025-H1;
      // in 2025-H2 the 15 again (5 of them closed) and the 5 newcomers.
      expect(csv).toHaveLength(1 + 15 + 20);
      // no personnummer (a uuid such as 83673834-7041-… is not one: hex or a hyphen around it)
      expect(csv.join('\n')).not.toMatch(/(?<![\w-])\d{8}-?\d{4}(?![\w-])/);
      await page.getByText(/är hämtad/).waitFor();
      expect(w.problems).toEqual([]);
      await w.context.close();
    });
  });
});
