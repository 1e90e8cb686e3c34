// Builds: ESM + UMD core bundles (telemetry + hls.js glue, no tfjs), the comlink worker bundle.
// Types come from `tsc -p tsconfig.build.json` (see the `build` script).
import esbuild from 'rollup-plugin-esbuild';
import resolve from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import commonjs from '@rollup/plugin-commonjs';

const plugins = () => [resolve({ browser: true }), esbuild({ target: 'es2020', tsconfig: 'tsconfig.json' })];
const external = (id) => id === 'hls.js' || id.startsWith('hls.js/') || id === 'three' || id.startsWith('three/');

export default [
  {
    input: 'src/index.ts',
    external,
    plugins: plugins(),
    output: [
      { file: 'dist/edgeplay.mjs', format: 'es', sourcemap: true, plugins: [terser({ module: true })] },
      {
        file: 'dist/edgeplay.umd.js',
        format: 'umd',
        name: 'edgeplay',
        exports: 'named',
        sourcemap: true,
        globals: { 'hls.js': 'Hls' },
        plugins: [terser()],
      },
      { file: 'dist/edgeplay.debug.mjs', format: 'es', sourcemap: true },
    ],
  },
  {
    input: 'src/viewport/index.ts',
    external,
    plugins: plugins(),
    output: [{ file: 'dist/edgeplay-viewport.mjs', format: 'es', sourcemap: true, plugins: [terser({ module: true })] }],
  },
  {
    input: 'src/worker/worker.ts',
    // tfjs pulls a few CommonJS modules (seedrandom, long): convert them for the worker bundle
    plugins: [...plugins(), commonjs()],
    output: { file: 'dist/edgeplay.worker.js', format: 'iife', sourcemap: true, inlineDynamicImports: true, plugins: [terser()] },
  },
];
