/**
 * Benchmark results name no machine's absolute path: data fields name data directories as `$EDGEPLAY_DATA/...` and
 * files in the checkout repo-relative (`dataRelative` / `repoRelative` in src/train/cli/args.ts), and a recorded
 * command line (`command`) names no `/tmp/` path (`commandLine` makes paths in the checkout repo-relative; a file
 * written to /tmp and copied in records the repo-relative file it lives at), so every recorded figure reproduces
 * from any clone.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The places in a results record `v` (named `at`) that hold an absolute path: in a data field a word under /work,
 * /tmp, /home or /root; in a `command` a word under /tmp (or an `--flag=/tmp/...` value). Arrays of numbers are
 * not walked. Returns `path: value` strings, empty when the record is clean.
 */
function absolutePaths(v: unknown, at: string, key = ''): string[] {
  const words = (s: string) => s.split(/[\s=,]+/);
  if (typeof v === 'string') {
    const bad = key === 'command' ? /^\/tmp\// : /^\/(work|tmp|home|root)\//;
    return words(v).some((w) => bad.test(w)) ? [`${at}: ${v.slice(0, 120)}`] : [];
  }
  if (Array.isArray(v)) return v.length && typeof v[0] !== 'number' ? v.flatMap((x, i) => absolutePaths(x, `${at}[${i}]`)) : [];
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => absolutePaths(x, `${at}.${k}`, k));
  return [];
}

describe('bench/results records', () => {
  it('name no absolute path (/work, /tmp, /home, /root) in any data field, and no /tmp path in a recorded command', () => {
    const dir = join(process.cwd(), 'bench', 'results');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const found = files.flatMap((f) => absolutePaths(JSON.parse(readFileSync(join(dir, f), 'utf8')), f));
    expect(found).toEqual([]);
  });

  it("recorded commands lost no empty argument (two spaces in a row: `--baselines ''` recorded as `--baselines  --no-mape`, which exits 2)", () => {
    const dir = join(process.cwd(), 'bench', 'results');
    const commands = (v: unknown, at: string): string[] => {
      if (Array.isArray(v)) return v.length && typeof v[0] !== 'number' ? v.flatMap((x, i) => commands(x, `${at}[${i}]`)) : [];
      if (v && typeof v === 'object')
        return Object.entries(v).flatMap(([k, x]) =>
          k === 'command' && typeof x === 'string' ? (/ {2}/.test(x) ? [`${at}: ${x}`] : []) : commands(x, at),
        );
      return [];
    };
    const found = readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .flatMap((f) => commands(JSON.parse(readFileSync(join(dir, f), 'utf8')), f));
    expect(found).toEqual([]);
  });

  it('the check finds a /tmp path in a command (top-level or nested, as a word or after =) and a machine path in a data field', () => {
    const clean = {
      command: 'npm run bench:offload -- --lookahead 1 --out bench/results/offload-lookahead1-b.json',
      data: '$EDGEPLAY_DATA/chunks',
      agent: { command: 'npm run train:cache -- --out models/cache-agent' },
      rows: [{ file: 'bench/results/x.json' }],
    };
    expect(absolutePaths(clean, 'r.json')).toEqual([]);
    const tmpOut = { ...clean, command: 'npm run bench:offload -- --lookahead 1 --out /tmp/w13/offload-lookahead1-b.json' };
    expect(absolutePaths(tmpOut, 'r.json')).toEqual([`r.json.command: ${tmpOut.command}`]);
    const nested = { ...clean, agent: { command: 'npm run train:cache -- --out=/tmp/cache-agent-dagger' } };
    expect(absolutePaths(nested, 'r.json')).toEqual(['r.json.agent.command: npm run train:cache -- --out=/tmp/cache-agent-dagger']);
    const data = { ...clean, rows: [{ file: '/work/wt-3/bench/results/x.json' }] };
    expect(absolutePaths(data, 'r.json')).toEqual(['r.json.rows[0].file: /work/wt-3/bench/results/x.json']);
  });
});
