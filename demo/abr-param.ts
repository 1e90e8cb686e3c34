/** The dashboard's `?abr=` query parameter (demo/app.ts): the policy `monitor()` is started with. */
import { ABR_POLICY_NAMES, type AbrPolicyName } from '../src/abr/hls-controller.js';

/**
 * The policy a `?abr=` value names, edgeplay's DRL when absent; an unknown value (a typo in the URL) falls back to the
 * DRL with a note for the console — `monitor()` refuses an unknown policy, which would leave the dashboard blank.
 * @param value the parameter's value, null when the URL has none
 */
export function abrParam(value: string | null): { abr: AbrPolicyName; note: string | null } {
  if (value === null) return { abr: 'drl', note: null };
  if ((ABR_POLICY_NAMES as readonly string[]).includes(value)) return { abr: value as AbrPolicyName, note: null };
  return { abr: 'drl', note: `?abr=${value} is none of ${ABR_POLICY_NAMES.join(', ')}: playing with drl` };
}
