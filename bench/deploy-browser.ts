/**
 * Chromium for `npm run bench:deploy`: bundles bench/deploy-page.ts and the SDK worker (src/worker/worker.ts) with
 * esbuild, serves them with the models and tfjs' wasm/webgl files on a loopback port, and drives Debian's headless
 * Chromium through playwright-core, throttling the page's CPU with DevTools' `Emulation.setCPUThrottlingRate`.
 * No network request runs while a timing loop does (the model loads first), so the DevTools client's Network
 * bookkeeping (bench/browser-abr.ts' reason to avoid playwright) does not touch the figures.
 */
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { build } from 'esbuild';
import { chromium, type Browser, type CDPSession, type Page } from 'playwright-core';
import type { Backend } from '../src/deploy/catalog.js';
import type { SpeedProbe } from '../src/deploy/speed.js';
import type { DeployBenchPage, TimeRequest } from './deploy-page.js';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.html': 'text/html',
};

/**
 * Cross-origin isolation: `performance.now()` then resolves 5 µs instead of 100 µs (the task calls take 0.1–5 ms),
 * in the page and in its worker.
 */
const ISOLATED = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** The running browser side of the bench. */
export interface DeployBrowser {
  /** Chromium's version string */
  version: string;
  /** per backend: null when it loaded on the page / in the worker, else the error */
  backends(list: Backend[]): Promise<{ page: Record<string, string | null>; worker: Record<string, string | null> }>;
  /** per-call ms of one variant in the worker (throttle 1: DevTools cannot throttle a worker) or on the page at `throttle` */
  time(where: 'worker' | 'page', req: TimeRequest, throttle: number): Promise<number[]>;
  probe(where: 'worker' | 'page', throttle: number, budgetMs: number): Promise<SpeedProbe>;
  close(): Promise<void>;
}

/**
 * Start it. @throws Error when Chromium (`CHROME_BIN`, default /usr/bin/chromium) does not start or the page does
 * not come up within 60 s.
 */
export async function startDeployBrowser(o: { modelsDir: string; onConsole?: (s: string) => void }): Promise<DeployBrowser> {
  const root = resolve('.');
  const out = mkdtempSync(join(tmpdir(), 'edgeplay-deploy-bench-'));
  const common = { bundle: true, platform: 'browser' as const, target: 'es2022', outdir: out, logLevel: 'error' as const, minify: true };
  await build({ ...common, entryPoints: { page: join(root, 'bench', 'deploy-page.ts') }, format: 'esm' });
  await build({ ...common, entryPoints: { worker: join(root, 'src', 'worker', 'worker.ts') }, format: 'iife' });
  const tfjsDirs = ['tfjs-backend-wasm', 'tfjs-backend-webgl'].map((p) => join(root, 'node_modules', '@tensorflow', p, 'dist'));
  const file = (path: string): string | null => {
    const p = decodeURIComponent(path);
    if (p === '/' || p === '/index.html') return join(out, 'index.html');
    if (p === '/page.js' || p === '/worker.js') return join(out, p.slice(1));
    if (p.startsWith('/models/')) return join(o.modelsDir, normalize(p.slice('/models/'.length)).replace(/^(\.\.\/)+/, ''));
    if (p.startsWith('/tfjs/')) {
      const name = normalize(p.slice('/tfjs/'.length)).replace(/^(\.\.\/)+/, '');
      for (const d of tfjsDirs) if (existsSync(join(d, name))) return join(d, name);
    }
    return null;
  };
  const html = '<!doctype html><meta charset="utf-8"><title>deploy-bench</title><script type="module" src="/page.js"></script>';
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/' || path === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html', ...ISOLATED });
      return res.end(html);
    }
    const f = file(path);
    if (!f || !existsSync(f) || !statSync(f).isFile()) {
      res.writeHead(404);
      return res.end('not found');
    }
    res.writeHead(200, { 'content-type': TYPES[extname(f)] ?? 'application/octet-stream', ...ISOLATED });
    createReadStream(f).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  let browser: Browser | null = null;
  try {
    browser = await chromium.launch({
      executablePath: process.env.CHROME_BIN ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-timer-throttling'],
    });
    const page: Page = await browser.newPage();
    if (o.onConsole) {
      const f = o.onConsole;
      page.on('console', (m) => f(`page ${m.type()}: ${m.text()}`));
      page.on('worker', (wk) => wk.on('console', (m) => f(`worker ${m.type()}: ${m.text()}`)));
    }
    page.setDefaultTimeout(600_000);
    const cdp: CDPSession = await page.context().newCDPSession(page);
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => document.title === 'deploy-bench ready', undefined, { timeout: 60_000 });
    let rate = 1;
    const throttle = async (r: number) => {
      if (r === rate) return;
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: r });
      rate = r;
    };
    type W = { deployBench: DeployBenchPage };
    const b = browser;
    return {
      version: b.version(),
      backends: (list) => page.evaluate((l) => (globalThis as unknown as W).deployBench.backends(l), list),
      async time(where, req, r) {
        if (where === 'worker' && r !== 1) throw new Error('DevTools cannot throttle a worker (pages only)');
        await throttle(r);
        return where === 'worker'
          ? page.evaluate((q) => (globalThis as unknown as W).deployBench.worker(q), req)
          : page.evaluate((q) => (globalThis as unknown as W).deployBench.page(q), req);
      },
      async probe(where, r, budgetMs) {
        await throttle(where === 'worker' ? 1 : r);
        return page.evaluate(([w, ms]) => (globalThis as unknown as W).deployBench.probe(w, ms), [where, budgetMs] as const);
      },
      async close() {
        await b.close();
        await new Promise((r) => server.close(r));
        rmSync(out, { recursive: true, force: true });
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    rmSync(out, { recursive: true, force: true });
    throw e;
  }
}
