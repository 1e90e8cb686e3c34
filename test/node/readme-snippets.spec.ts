/**
 * The README's TypeScript snippets type-check against the SDK as it is (strict, the way an app compiles them): an
 * option renamed, an export gone, a type an app cannot pass without a cast, a value that may be null — each is a
 * snippet that would not compile for the user who copies it. Snippets are fragments, so names an app supplies
 * (video, url, workerUrl, …) or an earlier snippet defined are not checked ("cannot find name" and its kin);
 * everything else is. 'edgeplay' and 'edgeplay/viewport' resolve to the sources (src/index.ts, src/viewport/index.ts).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

/**
 * What an app has around the snippets, typed (a module's own declaration shadows these): the SDK instance and the
 * page's video and URLs, so that a call on them is checked rather than taken as `any`.
 */
const APP_CONTEXT = `import type { Edgeplay } from 'edgeplay';
declare global {
  const ep: Edgeplay;
  const video: HTMLVideoElement;
  const url: string;
  const sportsUrl: string;
  const masterUrl: string;
  const workerUrl: string;
}
export {};
`;

/** diagnostics of a fragment's free names: cannot find name (2304, 2552), shorthand without a value (18004), use before declaration (2448, 2454) */
const FRAGMENT_CODES = new Set([2304, 2552, 18004, 2448, 2454]);

/** Type-checks the ```ts blocks of `markdown`; returns "snippet N line L: TSxxxx message" for each problem. */
export function snippetProblems(markdown: string, root = process.cwd()): string[] {
  const blocks = [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  mkdirSync(join(root, '.cache'), { recursive: true });
  const dir = mkdtempSync(join(root, '.cache', 'readme-snippets-'));
  try {
    const files = blocks.map((b, i) => {
      const f = join(dir, `snippet-${i + 1}.ts`);
      writeFileSync(f, b.replaceAll("'./src/", `'${root}/src/`) + '\nexport {};\n');
      return f;
    });
    const context = join(dir, 'app-context.ts');
    writeFileSync(context, APP_CONTEXT);
    const program = ts.createProgram([context, ...files], {
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: [],
      baseUrl: root,
      paths: { edgeplay: ['src/index.ts'], 'edgeplay/viewport': ['src/viewport/index.ts'] },
    });
    const out: string[] = [];
    for (const d of ts.getPreEmitDiagnostics(program)) {
      if (!d.file || !files.includes(resolve(d.file.fileName)) || FRAGMENT_CODES.has(d.code)) continue;
      const { line } = d.file.getLineAndCharacterOfPosition(d.start ?? 0);
      out.push(`${d.file.fileName.split('/').pop()} line ${line + 1}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("the README's TypeScript snippets", () => {
  it('type-check against the SDK (strict): no unknown option, missing export, cast-only type or unchecked null', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect((readme.match(/```ts\n/g) ?? []).length).toBeGreaterThan(5);
    expect(snippetProblems(readme)).toEqual([]);
  });

  it('would catch an option the SDK does not have, an export it does not make and a call on the app context', () => {
    const bad = [
      '```ts',
      "import { ViewportClient } from 'edgeplay/viewport';",
      "import { noSuchExport } from 'edgeplay';",
      "new ViewportClient({ worker: 1, modelUrl: '/m.json' });",
      'ep.hlsConfig({ maxBufferLength: "60" });',
      '```',
    ].join('\n');
    const problems = snippetProblems(bad);
    expect(problems.some((p) => /TS2353 .*'worker' does not exist/.test(p)))
      .withContext(problems.join('\n'))
      .toBeTrue();
    expect(problems.some((p) => /TS(2305|2614) .*noSuchExport/.test(p)))
      .withContext(problems.join('\n'))
      .toBeTrue();
  });
});
