/**
 * Benchmark results name no machine's absolute path in their data fields: data directories as `$EDGEPLAY_DATA/...`,
 * files in the checkout repo-relative (`dataRelative` / `repoRelative` in src/train/cli/args.ts), so every recorded
 * figure reproduces from any clone. Recorded command lines (`command`) are left out: four older ones keep the
 * `--out /tmp/...` they were run with before their file was copied in (cache.json, deploy-abr-profile.json,
 * offload-lookahead{0,1}-b.json); `commandLine` makes new ones repo-relative.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

describe('bench/results records', () => {
  it('name no absolute path (/work, /tmp, /home, /root) in any data field', () => {
    const dir = join(process.cwd(), 'bench', 'results');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const found: string[] = [];
    const walk = (v: unknown, at: string): void => {
      if (typeof v === 'string') {
        if (v.split(/[\s=,]+/).some((w) => /^\/(work|tmp|home|root)\//.test(w))) found.push(`${at}: ${v.slice(0, 120)}`);
      } else if (Array.isArray(v)) {
        if (v.length && typeof v[0] !== 'number') v.forEach((x, i) => walk(x, `${at}[${i}]`));
      } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) if (k !== 'command') walk(x, `${at}.${k}`);
    };
    for (const f of files) walk(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
    expect(found).toEqual([]);
  });
});
