/**
 * Bad input — a flag's value, a missing data directory or model file — as opposed to a bug. The trainers
 * and benchmarks throw it with a message that says what is wrong and how to fix it; their command-line
 * entries print that message and exit 2 (runCli in cli/args.ts).
 */
export class InputError extends Error {
  override name = 'InputError';
}
