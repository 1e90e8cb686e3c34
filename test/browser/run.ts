/**
 * Browser tests: karma + jasmine in headless Chromium, against the real demo server (streams, trace
 * shaping) and the real edge controller (fastify + SQLite in a temp dir). `npm run test:browser`.
 */
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { build } from 'esbuild';
import { startDemoServer } from '../../demo/server.js';
import { haveRedis, startRedis, whyNoRedis } from '../services.js';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '..', '..');

function chromeBin(): string {
  if (process.env.CHROME_BIN) return process.env.CHROME_BIN;
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(p)) return p;
  throw new Error('no Chromium found: install it (apt-get install -y chromium) or set CHROME_BIN');
}

async function main(): Promise<number> {
  process.env.CHROME_BIN = chromeBin();
  const out = join(ROOT, 'build', 'test');
  await build({
    entryPoints: { specs: join(ROOT, 'test', 'browser', 'index.ts'), page: join(ROOT, 'test', 'browser', 'fixtures', 'page.ts') },
    bundle: true,
    format: 'iife',
    target: 'es2022',
    sourcemap: 'inline',
    outdir: out,
    logLevel: 'warning',
    ignoreAnnotations: true,
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'edgeplay-browser-'));
  // --grep=TEXT or --grep TEXT (the space form used to be ignored: the whole suite ran)
  const gi = process.argv.indexOf('--grep');
  const grep = process.argv.find((a) => a.startsWith('--grep='))?.slice(7) ?? (gi >= 0 ? process.argv[gi + 1] : undefined);
  if (gi >= 0 && !grep) {
    console.error('test:browser: --grep needs a text (--grep=TEXT)');
    process.exit(2);
  }
  // the fleet spec's Redis (append-only, fsync always): its controller keeps sessions there across restarts
  const redis = haveRedis ? await startRedis({ persistent: true }) : null;
  if (!redis) console.log(`[browser] no fleet spec: ${whyNoRedis}`);
  const demo = await startDemoServer({
    ...(redis ? { fleet: { url: redis.url, kill: () => redis.kill(), start: () => redis.start() } } : {}),
    port: 0,
    controllerPort: Number(process.env.EDGEPLAY_TEST_CONTROLLER_PORT ?? 0) || (await freePort()),
    dataDir,
    harness: true,
    live: !process.argv.includes('--no-live'),
    log: (s) => console.log(s),
  });
  if (demo.live) await demo.live.ready;
  console.log(`[browser] demo ${demo.url}, controller ${demo.controllerUrl}`);
  const karma = require('karma');
  const cfg = await karma.config.parseConfig(
    null,
    {
      basePath: ROOT,
      frameworks: ['jasmine'],
      files: [
        { pattern: 'build/test/specs.js', watched: false },
        { pattern: 'build/test/page.js', included: false, watched: false },
        { pattern: 'test/browser/fixtures/*.html', included: false, watched: false },
        { pattern: 'dist/edgeplay.worker.js', included: false, watched: false },
        { pattern: 'models/**/*', included: false, watched: false },
      ],
      plugins: ['karma-jasmine', 'karma-chrome-launcher'],
      browsers: ['ChromiumHeadlessEdgeplay'],
      customLaunchers: {
        ChromiumHeadlessEdgeplay: {
          base: 'ChromeHeadless',
          flags: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-dev-shm-usage',
            '--disable-background-networking',
            '--disable-component-update',
            '--autoplay-policy=no-user-gesture-required',
            '--disable-background-timer-throttling',
            '--disable-renderer-backgrounding',
            '--disable-backgrounding-occluded-windows',
            '--no-first-run',
            '--disable-sync',
          ],
        },
      },
      client: {
        captureConsole: true,
        edgeplay: { dev: demo.url, controller: demo.controllerUrl, live: !!demo.live },
        jasmine: { random: false, timeoutInterval: 180000 },
        ...(grep ? { args: ['--grep', grep] } : {}),
      },
      browserConsoleLogOptions: { level: 'log', terminal: true },
      reporters: ['progress'],
      singleRun: true,
      autoWatch: false,
      browserNoActivityTimeout: 600000,
      browserDisconnectTimeout: 60000,
      captureTimeout: 120000,
      logLevel: 'WARN',
      port: 9876,
    },
    { promiseConfig: true, throwErrors: true },
  );
  let results = { success: 0, failed: 0, skipped: 0 };
  const code = await new Promise<number>((res) => {
    const server = new karma.Server(cfg, (exit: number) => res(exit));
    server.on('run_complete', (_b: unknown, r: { success: number; failed: number; skipped?: number }) => {
      results = { success: r.success, failed: r.failed, skipped: r.skipped ?? 0 };
    });
    server.on('browser_complete', (b: { lastResult: { skipped: number } }) => {
      results.skipped = b.lastResult.skipped;
    });
    server.start();
  });
  await demo.close();
  await redis?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  console.log(`browser: ${results.success} passed, ${results.failed} failed, ${results.skipped} skipped`);
  return code;
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => res(p));
    });
  });
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
