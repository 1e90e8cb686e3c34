// Prints the gzip size of each bundle (the README's size figure comes from here: `npm run size`).
import { readFileSync, existsSync, writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
const files = ['dist/edgeplay.mjs', 'dist/edgeplay.umd.js', 'dist/edgeplay-viewport.mjs', 'dist/edgeplay.worker.js'];
const rows = [];
for (const f of files) {
  if (!existsSync(f)) {
    console.error(`${f} missing: run npm run build`);
    process.exit(1);
  }
  const b = readFileSync(f);
  rows.push({ file: f, bytes: b.length, gzip_bytes: gzipSync(b, { level: 9 }).length });
}
console.log('bundle                      min bytes   gzip bytes');
for (const r of rows) console.log(`${r.file.padEnd(28)}${String(r.bytes).padStart(9)}${String(r.gzip_bytes).padStart(13)}`);
mkdirSync('bench/results', { recursive: true });
writeFileSync('bench/results/size.json', JSON.stringify({ command: 'npm run build && npm run size', rows }, null, 2) + '\n');
