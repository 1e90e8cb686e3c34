/**
 * The player dashboard (`npm start` → /) in real headless Chromium (Debian's, driven by playwright-core) against the
 * real demo server and controller: after the negotiation, the controller moves a viewer through HLS Content Steering
 * (the steering manifest's PATHWAY-PRIORITY, RFC 8216bis §7.2). The status line must show the priority of the manifest
 * hls.js loaded last — it used to keep showing the first negotiation's assignment after the viewer had been moved.
 * The test rewrites the controller's steering answers on their way to the page (TTL 1 s, the priority reversed from
 * the second load on), so the move happens at once and its content is known.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDemoServer, type DemoServer } from '../../demo/server.js';

const CHROME = process.env.CHROME_BIN ?? '/usr/bin/chromium';

describe('player dashboard (/) in Chromium', () => {
  let demo: DemoServer;
  let dir: string;
  let browser: Browser;
  let page: Page;
  /** the priorities sent to the page, in order */
  const sent: string[][] = [];
  let gotFirst: (p: string[]) => void = () => undefined;
  /** the controller's own priority in the first steering answer */
  const firstPriority = new Promise<string[]>((r) => (gotFirst = r));

  beforeAll(async () => {
    if (!existsSync(CHROME)) return;
    dir = mkdtempSync(join(tmpdir(), 'edgeplay-dash-'));
    // as `npm start` runs it: three loopback CDNs the controller schedules, so the steering manifest orders several pathways
    demo = await startDemoServer({
      port: 0,
      controllerPort: 0,
      live: false,
      dataDir: dir,
      log: () => undefined,
      cdns: [
        { id: 'cdn-a', capacityMbps: 60 },
        { id: 'cdn-b', capacityMbps: 30 },
        { id: 'cdn-c', capacityMbps: 15 },
      ],
    });
    browser = await chromium.launch({
      executablePath: CHROME,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--autoplay-policy=no-user-gesture-required'],
    });
    page = await browser.newPage();
    page.on('pageerror', (e) => console.error('[dashboard]', e));
    await page.route('**/v1/steering/**', async (route) => {
      const real = await route.fetch();
      const body = (await real.json()) as { 'PATHWAY-PRIORITY'?: string[]; TTL?: number };
      const p = body['PATHWAY-PRIORITY'] ?? [];
      const priority = sent.length === 0 ? p : [...p].reverse();
      if (sent.length === 0) gotFirst(p);
      sent.push(priority);
      await route.fulfill({ response: real, json: { ...body, TTL: 1, 'PATHWAY-PRIORITY': priority } });
    });
    await page.goto(`${demo.url}/`);
  }, 900000);

  afterAll(async () => {
    await browser?.close();
    await demo?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    if (!existsSync(CHROME)) pending(`no Chromium at ${CHROME} (set CHROME_BIN)`);
  });

  it("shows the steering manifest's current pathway priority after the controller moved the viewer, beside the negotiated start", async () => {
    const first = await firstPriority;
    expect(first.length).withContext('the demo steers between several pathways').toBeGreaterThanOrEqual(2);
    // events, not time: the page applied a manifest from the second load on (each served reversed), and its status line
    // drew it. The controller may move the viewer between loads (its own answer changes under load), so the page must
    // show one of the moved manifests the route served, not necessarily the reverse of the first answer.
    const movedSent = () => new Set(sent.slice(1).map((p) => p.join(',')));
    const deadline = Date.now() + 120000;
    let shown = '';
    for (;;) {
      shown = await page.evaluate(() => document.body.dataset.steering ?? '');
      if (shown && movedSent().has(shown) && shown !== first.join(',')) break;
      if (Date.now() > deadline)
        throw new Error(`the page shows steering "${shown}", none of the moved manifests served: ${[...movedSent()].join(' | ')}`);
      await page.waitForFunction((was) => (document.body.dataset.steering ?? '') !== was, shown, { timeout: 5000 }).catch(() => undefined);
    }
    const moved = shown.split(',');
    const want = `steering now ${moved.join(' > ')}`;
    await page.waitForFunction((w) => (document.getElementById('status')?.textContent ?? '').includes(w), want, { timeout: 30000 });
    const status = await page.evaluate(() => document.getElementById('status')!.textContent!);
    expect(status).toContain(want);
    expect(status).toMatch(/negotiated at start: \S+ at \d+/);
    expect(sent.length).toBeGreaterThanOrEqual(2);
  }, 300000);
});
