/**
 * `npm start`'s prestart check: is the SDK build in dist/ older than its sources? Exits 0 when dist/ is current,
 * 1 (after saying why) when it is missing or a file under src/ (or the rollup config, package.json) changed after
 * it was built — so a `git pull` never leaves the demo serving a stale worker. `staleReason` is the testable core.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The newest modification time (ms) of the files under `dir` (recursively); 0 for none. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Why the build in `root`/dist must be rebuilt, or null when it is current: its oldest output (the bundles
 * `outputs`) against the newest of src/, rollup.config.mjs and package.json.
 * @param root the package root
 * @param outputs built files, relative to root
 */
export function staleReason(
  root: string,
  outputs = ['dist/edgeplay.mjs', 'dist/edgeplay.worker.js', 'dist/edgeplay-viewport.mjs'],
): string | null {
  const missing = outputs.filter((f) => !existsSync(join(root, f)));
  if (missing.length) return `${missing.join(', ')} missing`;
  const built = Math.min(...outputs.map((f) => statSync(join(root, f)).mtimeMs));
  const inputs: Array<[string, number]> = [
    ['src', newest(join(root, 'src'))],
    ...['rollup.config.mjs', 'package.json']
      .filter((f) => existsSync(join(root, f)))
      .map((f): [string, number] => [f, statSync(join(root, f)).mtimeMs]),
  ];
  const changed = inputs.filter(([, t]) => t > built).map(([f]) => f);
  return changed.length ? `${changed.join(', ')} changed after the last build` : null;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const why = staleReason(process.cwd());
  if (why) {
    console.log(`[demo] rebuilding the SDK: ${why}`);
    process.exit(1);
  }
}
