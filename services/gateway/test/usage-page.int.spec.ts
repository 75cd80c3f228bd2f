import { mkdirSync } from 'node:fs';
import { type AuthFixture, createAuthFixture, DEMO_USERS, sqlOnce, uniquePrefix } from '@neonpro/testing';
import type { Browser } from 'playwright-core';
import { type GatewayApp, startGateway } from '../src/app.js';
import { launchChromium, pageProblems } from './support/browser.js';
import { gatewayUrl, testGatewayEnv } from './support/test-gateway.js';
const DAYS_WITH_RUNS = 12;

describe('usage page in headless Chromium', () => {
  const prefix = uniquePrefix('usage-page');
  let auth: AuthFixture;
  let gw: GatewayApp;
  let browser: Browser;

  const sql = (text: string, values: unknown[] = []) => sqlOnce(auth.db.url, text, values);

  beforeAll(async () => {
    auth = await createAuthFixture();
    // Runs of the admin on the last days (through the ledger, so the rollup trigger builds the
    // daily rows the page reads), and a budget so the gauge has something to show.
    await sql(
      `insert into public.agent_usage (clinic_id, user_id, provider, model, input_tokens, output_tokens, tool_calls,
              duration_ms, outcome, created_at)
       select m.clinic_id, m.user_id, 'local', 'local-clinic-model', 400 + d * 30, 120, 1, 900, 'ok',
              now() - make_interval(days => d)
         from public.clinic_members m join auth.users u on u.id = m.user_id,
              generate_series(0, $2 - 1) d, generate_series(1, 1 + d % 4) r
        where u.email = $1`,
      [DEMO_USERS.auroraAdmin, DAYS_WITH_RUNS],
    );
    await sql(
      `insert into public.clinic_plans (clinic_id, monthly_ai_tokens)
       select id, 100000 from public.clinics where slug = 'aurora'`,
    );
    gw = await startGateway(testGatewayEnv(prefix, auth.env));
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await gw?.close();
    await auth?.close();
  });

  it('an admin sees the chart of daily runs and tokens and the budget gauge', async () => {
    const page = await browser.newPage({ viewport: { width: 1000, height: 900 } });
    const problems = pageProblems(page);
    await page.goto(`${gatewayUrl(gw)}/usage.html`);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-loaded]');
    expect(await page.locator('body').getAttribute('data-loaded')).toBe('true');

    const gauge = page.locator('#budget-gauge');
    expect(Number(await gauge.getAttribute('max'))).toBe(100000);
    expect(Number(await gauge.evaluate((m) => (m as unknown as { value: number }).value))).toBeGreaterThan(0);
    expect(await page.locator('#budget-text').textContent()).toContain('de 100.000 tokens');
    expect(await page.locator('#totals').textContent()).toMatch(/Total: \d+ execuções/);

    // The screenshot of the chart, decoded by the browser on a blank page (no CSP there), must
    // hold pixels of both series: the purple run bars and the orange token line.
    const canvas = page.locator('#chart canvas');
    await canvas.waitFor();
    mkdirSync('test-results', { recursive: true });
    await page.screenshot({ path: 'test-results/usage-page.png', fullPage: true });
    const png = await canvas.screenshot();
    const blank = await browser.newPage();
    // Plain JavaScript run in the page (the test's TypeScript has no DOM types).
    const counts = await blank.evaluate<{ bars: number; line: number }>(`(async (b64) => {
      const img = new Image();
      img.src = 'data:image/png;base64,' + b64;
      await img.decode();
      const c = new OffscreenCanvas(img.width, img.height);
      const ctx = c.getContext('2d');
      ctx.drawImage(img, 0, 0);
      const px = ctx.getImageData(0, 0, img.width, img.height).data;
      let bars = 0;
      let line = 0;
      for (let i = 0; i < px.length; i += 4) {
        const r = px[i], g = px[i + 1], b = px[i + 2];
        if (b > r + 20 && b > g + 40 && r > g) bars++; // purple (#6b3fd4 and its translucent fill)
        if (r > 180 && g > 90 && g < 160 && b < 90) line++; // orange (#e0792b)
      }
      return { bars, line };
    })(${JSON.stringify(png.toString('base64'))})`);
    await blank.close();
    expect(counts.bars).toBeGreaterThan(500);
    expect(counts.line).toBeGreaterThan(100);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a non-admin is told the page is for admins', async () => {
    const page = await browser.newPage();
    await page.goto(`${gatewayUrl(gw)}/usage.html`);
    await page.fill('#email', DEMO_USERS.auroraLima);
    await page.click('#login button[type=submit]');
    await page.waitForSelector('body[data-loaded]');
    expect(await page.locator('#usage-error').textContent()).toContain('Apenas administradores');
    expect(await page.locator('#chart canvas').count()).toBe(0);
    await page.close();
  });
});
