/**
 * The one direction of imports (../shared/DESIGN.md, "Rules of the house"), checked by `npm test`
 * (`npm run lint:deps`). Every import inside src/ must match an `allowed` rule; anything else is an error.
 * The allowed folder graph is acyclic, so no folder cycle can form; `no-circular` also forbids module cycles.
 *
 *   core      pure logic: imports nothing of ours but core, no Node built-ins
 *   assign    decision policies shared by controller, simulators and training: core only, no Node built-ins
 *   telemetry, profile, viewport, abr, edge, deploy   browser-side parts: core and their own folder
 *   worker    the one worker: hosts the models (abr, viewport, profile, deploy) and the offload client (edge/offload.ts)
 *   src/*.ts  the public barrel and the Edgeplay wiring: any browser-side folder and the worker client
 *   sim       simulators: core, assign and the pure model folders (never server/, train/, DOM code)
 *   train     training: sim, assign, core and the model folders (never server/)
 *   server    the controller: core, assign and the pure model folders (never sim/, train/, DOM code)
 */
const browser = 'telemetry|profile|viewport|abr|edge|deploy';
const models = 'abr|viewport|profile|deploy';
const folder = (from, to) => ({ from: { path: `^src/(${from})/` }, to: { path: `^src/(${to})/` } });

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', comment: 'no module cycles', from: {}, to: { circular: true } },
    {
      name: 'no-node-in-pure',
      severity: 'error',
      comment: 'core/, assign/ and the browser folders run in browsers and workers: no Node built-ins',
      from: { path: `^src/(core|assign|${browser}|worker)/|^src/[^/]+\\.ts$` },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'src-is-self-contained',
      severity: 'error',
      comment: 'the SDK never imports the demo, tests or benchmarks',
      from: { path: '^src/' },
      to: { path: '^(demo|test|bench)/' },
    },
  ],
  allowed: [
    // outside src/ (demo, tests, benchmarks, configs) anything goes; npm packages are always allowed
    { from: { pathNot: '^src/' }, to: {} },
    { from: {}, to: { dependencyTypesNot: ['local', 'localmodule', 'aliased', 'aliased-tsconfig'] } },
    folder('core', 'core'),
    folder('assign', 'core|assign'),
    folder('telemetry', 'core|telemetry'),
    folder('profile', 'core|profile'),
    folder('viewport', 'core|viewport'),
    folder('abr', 'core|abr'),
    folder('edge', 'core|edge'),
    folder('deploy', 'core|deploy'),
    folder('worker', `core|worker|edge|${models}`),
    { from: { path: '^src/[^/]+\\.ts$' }, to: { path: `^src/((core|worker|${browser})/|[^/]+\\.ts$)` } },
    folder('sim', `core|assign|sim|${models}`),
    folder('train', `core|assign|sim|train|${models}`),
    folder('server', `core|assign|server|${models}`),
    // the controller's and the edge's entry points share the command-line layer (--help, exit 2 on a bad value)
    { from: { path: '^src/server/' }, to: { path: '^src/train/cli/args\\.ts$' } },
  ],
  allowedSeverity: 'error',
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|build|\\.cache|models|data)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
