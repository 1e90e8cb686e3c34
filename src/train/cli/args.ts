/**
 * The command-line layer of the trainers, benchmarks and demo: a thin wrapper over `node:util` `parseArgs`
 * (strict: an unknown flag, a missing value or a stray positional is an error) that adds `--help` and
 * turns flag strings into checked numbers and choices. Every entry point declares its flags once, with the
 * help text `--help` prints.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { dataRoot } from '../../sim/abr/load.js';
import { InputError } from '../errors.js';

export { InputError };

/** One flag: a string option (with an optional default, as parseArgs takes it) or a boolean switch. */
export interface Flag {
  type: 'string' | 'boolean';
  /** string flags: the default parseArgs fills in (shown by --help) */
  default?: string;
  /** the value's placeholder in --help (N, DIR, FILE, LIST); string flags only */
  arg?: string;
  help: string;
}
export type Flags = Record<string, Flag>;

/** What parseArgs returns for these flags: booleans and defaulted strings are always set, other strings optional. */
export type Values<F extends Flags> = {
  [K in keyof F as F[K] extends { type: 'string' } ? (F[K] extends { default: string } ? K : never) : K]: F[K]['type'] extends 'boolean'
    ? boolean
    : string;
} & {
  [K in keyof F as F[K] extends { type: 'string' } ? (F[K] extends { default: string } ? never : K) : never]?: string;
};

/** An entry point: its npm script (or command), a one-paragraph description and its flags. */
export interface Cli<F extends Flags> {
  /** how it is run, e.g. `train:abr` (an npm script) — used in --help and in the recorded command line */
  name: string;
  summary: string;
  flags: F;
}

/** The --help text: usage line, summary, one line per flag with its default. */
export function helpText<F extends Flags>(cli: Cli<F>): string {
  const rows = Object.entries(cli.flags).map(([name, f]) => {
    const left = f.type === 'boolean' ? `--${name}` : `--${name} ${f.arg ?? 'VALUE'}`;
    const def = f.type === 'string' && f.default !== undefined ? ` (default: ${f.default})` : '';
    return [left, `${f.help}${def}`] as const;
  });
  rows.push(['--help, -h', 'print this help and exit']);
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  const script = cli.name === 'start' ? 'npm start --' : /^[a-z]+(:[a-z-]+)?$/.test(cli.name) ? `npm run ${cli.name} --` : cli.name;
  return `usage: ${script} [options]\n\n${cli.summary}\n\noptions:\n${rows.map(([l, r]) => `  ${l.padEnd(width)}${r}`).join('\n')}\n`;
}

/**
 * Parses `argv` (default: the process's arguments) against the declared flags with `parseArgs` in strict
 * mode. Throws InputError naming the problem (unknown flag, missing value, positional argument). With
 * `--help` it prints helpText and exits 0.
 */
export function parseCli<F extends Flags>(cli: Cli<F>, argv: string[] = process.argv.slice(2)): Values<F> {
  const options: Record<string, { type: 'string' | 'boolean'; default?: string | boolean; short?: string }> = {};
  for (const [name, f] of Object.entries(cli.flags))
    options[name] =
      f.type === 'boolean'
        ? { type: 'boolean', default: false }
        : { type: 'string', ...(f.default !== undefined ? { default: f.default } : {}) };
  options.help = { type: 'boolean', short: 'h', default: false };
  let values: Record<string, unknown>;
  try {
    values = parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (e) {
    throw new InputError(`${(e as Error).message} (see --help)`);
  }
  if (values.help) {
    process.stdout.write(helpText(cli));
    process.exit(0);
  }
  const { help: _, ...rest } = values;
  return rest as Values<F>;
}

/**
 * The command line as it was typed, recorded in results and model files: `npm run NAME -- ARGS`, with every
 * absolute path inside a checkout of this project written relative to that checkout's root (repoRelative), so
 * the record reproduces from any clone instead of naming one machine's worktree. An empty argument, or one with
 * characters the shell splits or expands, is single-quoted (POSIX sh), so the record can be pasted as it is.
 */
export function commandLine(name: string, argv: string[] = process.argv.slice(2), cwd: string = process.cwd()): string {
  // a value may be a list (a,b) whose items may carry a path after a prefix (drl:/abs/models/x)
  const value = (v: string) =>
    v
      .split(',')
      .map((item) => {
        const pre = /^([\w+-]+:)(\/.*)$/.exec(item);
        return pre ? pre[1] + repoRelative(pre[2], cwd) : repoRelative(item, cwd);
      })
      .join(',');
  // an empty argument (--adapt '') or one the shell would split or expand is quoted, so the record reproduces
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  const args = argv.map((a) => {
    const eq = /^(--[^=]+=)(.*)$/.exec(a);
    return quote(eq ? eq[1] + value(eq[2]) : value(a));
  });
  return `npm run ${name} -- ${args.join(' ')}`.trim();
}

/** The `name` in DIR/package.json, or undefined when there is none (or it cannot be read). */
function packageName(dir: string): string | undefined {
  try {
    const name: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `arg` relative to the project root when it is an absolute path inside a checkout of this project: inside `cwd`
 * (npm runs scripts at the root), or inside the nearest ancestor directory whose package.json has the same
 * `name` as cwd's (another worktree or clone, e.g. `--out /work/wt-12/models/cdn-lts` run from a copy of the
 * tree → `models/cdn-lts`). Anything else (a relative path, a flag, a path outside any checkout such as
 * /tmp/x) is returned unchanged.
 */
export function repoRelative(arg: string, cwd: string = process.cwd()): string {
  if (!isAbsolute(arg)) return arg;
  const inside = (root: string) => {
    const r = relative(root, arg);
    return r === '' ? '.' : r.startsWith('..') || isAbsolute(r) ? undefined : r;
  };
  const here = inside(cwd);
  if (here !== undefined) return here;
  const name = packageName(cwd);
  if (name === undefined) return arg;
  for (let dir = dirname(arg); ; dir = dirname(dir)) {
    if (packageName(dir) === name) return inside(dir) ?? arg;
    if (dirname(dir) === dir) return arg;
  }
}

/** What num() checks besides being a finite number: an integer, at least `min`, at most `max`. */
export interface NumCheck {
  integer?: boolean;
  min?: number;
  max?: number;
}

/** A TCP port as a flag or environment value: an integer 0–65535 (0: any free one). */
export const PORT: NumCheck = { integer: true, min: 0, max: 65535 };

/** The number in `value`, named `label` (`--flag` or an environment variable) in the InputError when it fails `o`. */
function checkedNum(label: string, value: string, o: NumCheck): number {
  const v = Number(value);
  if (value.trim() === '' || !Number.isFinite(v)) throw new InputError(`${label}: expected a number, got "${value}"`);
  if (o.integer && !Number.isInteger(v)) throw new InputError(`${label}: expected an integer, got "${value}"`);
  if (o.min !== undefined && v < o.min) throw new InputError(`${label}: must be at least ${o.min}, got "${value}"`);
  if (o.max !== undefined && v > o.max) throw new InputError(`${label}: must be at most ${o.max}, got "${value}"`);
  return v;
}

/**
 * A flag's value as a number. Throws InputError when it is not a finite number, not an integer where one
 * is needed, below `min` or above `max`.
 */
export function num(flag: string, value: string, o: NumCheck = {}): number {
  return checkedNum(`--${flag}`, value, o);
}

/**
 * An environment variable's value as a number, checked as num() checks a flag (the InputError names the variable):
 * undefined when it is unset or empty.
 */
export function envNum(name: string, env: NodeJS.ProcessEnv, o: NumCheck = {}): number | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : checkedNum(name, value, o);
}

/**
 * A path as a training or benchmark record names it: `$EDGEPLAY_DATA/<rest>` when it is inside the data root `root`
 * (default: dataRoot(), $EDGEPLAY_DATA or ../shared/data), else repoRelative(). Records then hold no machine's
 * absolute path for the shared datasets either.
 */
export function dataRelative(arg: string, root: string = dataRoot(), cwd: string = process.cwd()): string {
  if (isAbsolute(arg)) {
    const r = relative(root, arg);
    if (r === '') return '$EDGEPLAY_DATA';
    if (!r.startsWith('..') && !isAbsolute(r)) return `$EDGEPLAY_DATA/${r.split(sep).join('/')}`;
  }
  return repoRelative(arg, cwd);
}

/** num() for an optional flag: undefined stays undefined. */
export function optNum(flag: string, value: string | undefined, o: NumCheck = {}): number | undefined {
  return value === undefined ? undefined : num(flag, value, o);
}

/** A flag's value that must be one of `choices`; throws InputError listing them otherwise. */
export function oneOf<const T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) throw new InputError(`--${flag}: one of ${choices.join(', ')}, got "${value}"`);
  return value as T;
}

/** A comma-separated list whose items must each be one of `choices` (when given); empty items are dropped. */
export function listOf<const T extends string = string>(flag: string, value: string, choices?: readonly T[]): T[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (choices) for (const it of items) oneOf(flag, it, choices);
  return items as T[];
}

/**
 * parseCli for an entry point whose body runs at module level rather than in runCli (bench:cdn, train:cdn-sim): a bad
 * command line (unknown flag, missing value, positional argument) prints `NAME: message (see --help)` to stderr and
 * exits 2, as runCli does; `--help` prints helpText and exits 0. Returns the parsed values otherwise.
 */
export function parseCliOrExit<F extends Flags>(cli: Cli<F>, argv: string[] = process.argv.slice(2)): Values<F> {
  return inputOrExit(cli.name, () => parseCli(cli, argv));
}

/**
 * Runs `check` (a module-level entry point's checks of its flag values with num / oneOf / listOf) and returns what it
 * returns; an InputError it throws prints `NAME: message` to stderr and exits 2, as runCli does, so that a bad value
 * stops the script before any work. Any other error is rethrown.
 */
export function inputOrExit<T>(name: string, check: () => T): T {
  try {
    return check();
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    console.error(`${name}: ${e.message}`);
    process.exit(2);
  }
}

/**
 * Runs an entry point: parses the flags, calls `run` with them, and turns failures into an exit status —
 * InputError (bad flags, missing data) prints its message and exits 2; anything else prints the stack and
 * exits 1.
 */
export async function runCli<F extends Flags>(cli: Cli<F>, run: (values: Values<F>) => Promise<void> | void): Promise<void> {
  try {
    await run(parseCli(cli));
  } catch (e) {
    if (e instanceof InputError) {
      // a library's message may already start with the entry point's name ('bench:part-sizes: …', 'train:part-size needs …'): name it once
      const named = e.message.startsWith(`${cli.name}: `) || e.message.startsWith(`${cli.name} `);
      console.error(named ? e.message : `${cli.name}: ${e.message}`);
      process.exit(2);
    }
    console.error(e);
    process.exit(1);
  }
}
