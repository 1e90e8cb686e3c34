/** Node tests (jasmine): `npm run test:node [-- --filter=REGEX]`. */
import Jasmine from 'jasmine';
import { resolve } from 'node:path';

const jasmine = new Jasmine({ projectBaseDir: resolve(import.meta.dirname, '..', '..') });
jasmine.loadConfig({
  spec_dir: 'test/node',
  spec_files: ['**/*.spec.ts'],
  jsLoader: 'import',
  random: false,
});
(jasmine as unknown as { jasmine: { DEFAULT_TIMEOUT_INTERVAL: number } }).jasmine.DEFAULT_TIMEOUT_INTERVAL = 120000;
let passed = 0,
  failed = 0,
  skipped = 0;
jasmine.addReporter({
  specDone(r) {
    if (r.status === 'passed') passed++;
    else if (r.status === 'failed') failed++;
    else skipped++;
  },
  jasmineDone() {
    console.log(`node: ${passed} passed, ${failed} failed, ${skipped} skipped`);
  },
});
// --filter=REGEX or --filter REGEX (the space form used to be ignored: the whole suite ran)
const fi = process.argv.indexOf('--filter');
const filter = process.argv.find((a) => a.startsWith('--filter='))?.slice(9) ?? (fi >= 0 ? process.argv[fi + 1] : undefined);
if (fi >= 0 && !filter) {
  console.error('test:node: --filter needs a REGEX (--filter=REGEX)');
  process.exit(2);
}
jasmine.exitOnCompletion = true;
await jasmine.execute(undefined, filter);
