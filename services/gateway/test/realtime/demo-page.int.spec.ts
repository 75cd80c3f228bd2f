import { mkdirSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { buildDemoPage } from '../../web/build.mjs';
import { launchChromium, pageProblems } from '../support/browser.js';
import { type GatewayHarness, startGatewayHarness } from '../support/test-gateway.js';

describe('demo chat page in headless Chromium', () => {
  let h: GatewayHarness;
  let browser: Browser;

  beforeAll(async () => {
    // The page's script is a bundle of web/app.js and @neonpro/client: build it from the sources.
    await buildDemoPage();
    h = await startGatewayHarness('demo');
    // A streamed answer with tool activity in between, sent over a few event-loop turns.
    h.agent.behaviour = (req, _msg, reply) => {
      if (req.confirm) {
        reply({ type: 'done', message_id: req.message_id, content: `Pronto! (${req.confirm.proposal_id})` }, true);
        return [];
      }
      if (req.message.startsWith('agende')) {
        reply({ type: 'token', delta: 'Posso agendar. Confirma?' });
        reply({
          type: 'proposal',
          proposal_id: 'p-0123456789abcdef',
          action: 'book',
          summary: 'Agendar Limpeza de pele para Maria Silva com Dr. Costa em quarta-feira, 02/12, das 14:00 às 15:00.',
          expires_at: new Date(Date.now() + 15 * 60_000).toISOString(),
        });
        reply({ type: 'done', message_id: req.message_id, content: 'Posso agendar. Confirma?' }, true);
        return [];
      }
      const steps = [
        () => reply({ type: 'token', delta: 'Vou verificar a agenda. ' }),
        () => reply({ type: 'tool', name: 'list_appointments', status: 'started' }),
        () => reply({ type: 'tool', name: 'list_appointments', status: 'succeeded' }),
        () => reply({ type: 'token', delta: 'A Dra. Lima tem ' }),
        () => reply({ type: 'token', delta: '2 consultas amanhã.' }),
        () =>
          reply(
            {
              type: 'done',
              message_id: req.message_id,
              content: 'Vou verificar a agenda. A Dra. Lima tem 2 consultas amanhã.',
            },
            true,
          ),
      ];
      steps.forEach((step, i) => setTimeout(step, 30 * i));
      return [];
    };
    browser = await launchChromium();
  });

  /** A new page, logged in as the form's prefilled demo user and connected. */
  async function loggedIn(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems = pageProblems(page);
    await page.goto(`${h.base}/`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#status:has-text("conectado")');
    return { page, problems };
  }

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('logs in, sends a message and shows the streamed answer and the tool activity', async () => {
    const { page, problems } = await loggedIn();
    expect(await page.locator('#login').isVisible()).toBe(false);
    await page.fill('#message', 'Quais consultas a Dra. Lima tem amanhã?');
    await page.click('#send');
    const answer = page.locator('li.assistant[data-done="true"]');
    await answer.waitFor();
    expect(await answer.textContent()).toBe('Vou verificar a agenda. A Dra. Lima tem 2 consultas amanhã.');
    expect(await page.locator('li.user').textContent()).toBe('Quais consultas a Dra. Lima tem amanhã?');
    expect(await page.locator('li.tool').textContent()).toContain('consultando a agenda');
    expect(await page.locator('#whoami').textContent()).toBe('admin@aurora.demo');
    expect(h.agent.seen).toHaveLength(1);
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/demo-chat.png', fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a proposal as a card whose Confirm button sends confirm {proposal_id}', async () => {
    const { page, problems } = await loggedIn();
    const before = h.agent.seen.length;
    await page.fill('#message', 'agende Maria Silva com Dr. Costa amanhã às 14h');
    await page.click('#send');
    const card = page.locator('li.proposal');
    await card.waitFor();
    expect(await card.locator('.summary').textContent()).toBe(
      'Agendar Limpeza de pele para Maria Silva com Dr. Costa em quarta-feira, 02/12, das 14:00 às 15:00.',
    );
    await page.locator('li.assistant[data-done="true"]').waitFor();
    await card.locator('button.confirm').click();
    await page.locator('li.assistant[data-done="true"]:has-text("Pronto! (p-0123456789abcdef)")').waitFor();
    expect(await card.getAttribute('data-state')).toBe('confirmed');
    expect(await card.locator('button.confirm').isDisabled()).toBe(true);
    expect(h.agent.seen.length).toBe(before + 2);
    await page.screenshot({ path: 'test-results/demo-proposal.png', fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the Cancel button sends a plain "Não" without confirm', async () => {
    const page = await browser.newPage();
    await page.goto(`${h.base}/`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('#status:has-text("conectado")');
    await page.fill('#message', 'agende Maria Silva com Dr. Costa amanhã às 14h');
    await page.click('#send');
    await page.locator('li.assistant[data-done="true"]').waitFor();
    await page.locator('li.proposal button.cancel').click();
    await page.locator('li.user:has-text("Não")').waitFor();
    await page.locator('li.assistant[data-done="true"]').nth(1).waitFor();
    expect(await page.locator('li.proposal').getAttribute('data-state')).toBe('cancelled');
    await page.close();
  });
});
