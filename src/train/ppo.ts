/**
 * Proximal Policy Optimization with Generalized Advantage Estimation — the one implementation behind
 * `npm run train:abr` (discrete bitrate levels, tfjs layers actor-critic, KL early stop, critic warm-up)
 * and `npm run train:edge` (masked slot scorer, critic on global features, truncation bootstrap).
 *
 * - GAE: Schulman et al. 2016, "High-Dimensional Continuous Control Using Generalized Advantage
 *   Estimation", §3 eq. 16 (δ_t = r_t + γ V(s_{t+1}) − V(s_t), Â_t = Σ (γλ)^l δ_{t+l}); a done flag ends the
 *   sum and drops the bootstrap (terminal state); the value after the last step bootstraps a truncated episode.
 * - Update: Schulman et al. 2017, "Proximal Policy Optimization Algorithms", §3 (clipped surrogate, ε) and
 *   §5 (L = −L^CLIP + c1·L^VF − c2·S[π]), several epochs of shuffled minibatches, advantages normalised per
 *   batch; optional masks over infeasible actions (logit −1e9, no entropy); optional early stop when the
 *   mean approximate KL(old ‖ new) exceeds 1.5 × a target (as in OpenAI Spinning Up's PPO); a critic-only
 *   warm-up with its own optimizer.
 *
 * The environment loop (how actions are sampled and rewards observed) stays with each trainer: it hands a
 * Rollout here. Randomness (minibatch shuffles) comes from the caller's seeded generator, so a run repeats.
 */
import * as tf from '@tensorflow/tfjs';

/** Transitions of `envs` parallel environments over T steps, time-major: sample i = t·envs + e. */
export interface Rollout {
  /** parallel environments (1 for a single episode) */
  envs: number;
  /** observations, [T·envs, ...obsShape] flattened */
  obs: Float32Array;
  /** one observation's shape (e.g. [FEATURES], or [slots, features]) */
  obsShape: number[];
  /** the action taken, 0 ≤ a < nActions; [T·envs] */
  actions: Int32Array;
  /** log π_old(a|s) of the action taken; [T·envs] */
  logp: Float32Array;
  /** rewards, [T·envs] (multiplied by PpoConfig.rewardScale before use) */
  rewards: ArrayLike<number>;
  /**
   * critic outputs V(s_t) for t = 0..T, [(T+1)·envs], in value units (the return divided by valueScale);
   * row T is the value of the state after the last step: the bootstrap of a truncated episode (0 for none)
   */
  values: ArrayLike<number>;
  /** 1 where the episode ended with this step (terminal: nothing is bootstrapped across it); [T·envs] */
  dones?: ArrayLike<number>;
  /** 1 where an action is feasible, [T·envs, nActions]; absent: every action is */
  masks?: Uint8Array;
  nActions: number;
}

/** GAE parameters: discount γ, λ, and the scales between rewards, returns and the critic's outputs. */
export interface GaeOptions {
  gamma: number;
  lambda: number;
  /** the critic predicts return / valueScale (default 1) */
  valueScale?: number;
  /** rewards are multiplied by this before use (default 1) */
  rewardScale?: number;
}

/**
 * Advantages Â_t and returns Â_t + V(s_t) (in reward units × rewardScale) by GAE over each environment's
 * time series. Throws when the arrays' lengths do not fit T·envs and (T+1)·envs.
 */
export function gae(
  r: Pick<Rollout, 'envs' | 'rewards' | 'values' | 'dones'>,
  o: GaeOptions,
): { advantages: Float32Array; returns: Float32Array } {
  const { envs, rewards, values, dones } = r;
  const n = rewards.length;
  if (envs < 1 || n % envs !== 0) throw new Error(`gae: ${n} rewards do not split into ${envs} environments`);
  if (values.length !== n + envs) throw new Error(`gae: need ${n + envs} values ((T+1)·envs), got ${values.length}`);
  if (dones && dones.length !== n) throw new Error(`gae: need ${n} done flags, got ${dones.length}`);
  const T = n / envs;
  const vs = o.valueScale ?? 1;
  const rs = o.rewardScale ?? 1;
  const adv = new Float32Array(n);
  const ret = new Float32Array(n);
  for (let e = 0; e < envs; e++) {
    let g = 0;
    for (let t = T - 1; t >= 0; t--) {
      const i = t * envs + e;
      const done = dones ? dones[i] : 0;
      const nextV = done ? 0 : values[(t + 1) * envs + e] * vs;
      const delta = rewards[i] * rs + o.gamma * nextV - values[i] * vs;
      g = delta + o.gamma * o.lambda * (done ? 0 : g);
      adv[i] = g;
      ret[i] = g + values[i] * vs;
    }
  }
  return { advantages: adv, returns: ret };
}

/**
 * Normalises advantages in place to mean 0 and standard deviation 1: (Â − mean) / (sd + eps); a batch with
 * no spread (sd + eps = 0) is only centred.
 */
export function normalizeAdvantages(adv: Float32Array, eps = 1e-8): Float32Array {
  const n = adv.length;
  if (!n) return adv;
  let mu = 0;
  for (const x of adv) mu += x;
  mu /= n;
  let ss = 0;
  for (const x of adv) ss += (x - mu) ** 2;
  let sd = Math.sqrt(ss / n) + eps;
  if (!(sd > 0)) sd = 1;
  for (let i = 0; i < n; i++) adv[i] = (adv[i] - mu) / sd;
  return adv;
}

/** A seeded Fisher–Yates permutation of 0..n−1 (tf.util.shuffle would use Math.random). */
export function permutation(n: number, rng: () => number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/** Consecutive slices of `size` of a permutation; the last, shorter one is kept unless dropPartial. */
export function minibatches(perm: Int32Array, size: number, dropPartial = false): Int32Array[] {
  const out: Int32Array[] = [];
  for (let s = 0; s < perm.length; s += size) {
    if (dropPartial && s + size > perm.length) break;
    out.push(perm.subarray(s, s + size));
  }
  return out;
}

/** Rows `idx` of a row-major array with `width` values per row, as float32 (masks and actions included). */
export function gatherRows(src: ArrayLike<number>, idx: ArrayLike<number>, width: number): Float32Array {
  const out = new Float32Array(idx.length * width);
  for (let i = 0; i < idx.length; i++) {
    const k = idx[i];
    for (let j = 0; j < width; j++) out[i * width + j] = src[k * width + j];
  }
  return out;
}

/** Logits with infeasible actions pushed to −1e9 (softmax probability 0): logits + (1 − mask)·(−1e9). */
export function maskLogits(logits: tf.Tensor, mask: tf.Tensor): tf.Tensor {
  return logits.add(tf.sub(1, mask).mul(-1e9));
}

/** The network PPO trains: an actor's logits and a critic's value for a batch of observations. */
export interface PpoModel {
  /**
   * obs: [batch, ...obsShape]; returns logits [batch, nActions] (unmasked) and value [batch] (value units).
   * Called inside the optimizer's gradient tape.
   */
  forward(obs: tf.Tensor, batch: number): { logits: tf.Tensor; value: tf.Tensor };
  /** every trainable variable, actor and critic, in a fixed order (Adam keeps its moments by position) */
  variables: tf.Variable[];
  /** the critic's own variables, the only ones the critic warm-up moves */
  criticVariables: tf.Variable[];
}

/** PPO's hyper-parameters and its optimizers. */
export interface PpoConfig extends GaeOptions {
  /** surrogate clip ε (default 0.2) */
  clip?: number;
  /** entropy bonus c2 */
  entropy: number;
  /** value-loss weight c1 (default 0.5) */
  valueCoef?: number;
  /** epochs over the batch per iteration */
  epochs: number;
  /** minibatch size */
  minibatch: number;
  /** drop the last, shorter minibatch of an epoch (default false) */
  dropPartialMinibatch?: boolean;
  /** stop an iteration's epochs early when the mean approximate KL exceeds 1.5 × this (default: never) */
  targetKl?: number;
  /** added to the advantages' standard deviation before dividing (default 1e-8) */
  advantageEpsilon?: number;
  /** the policy (and value) optimizer */
  optimizer: tf.Optimizer;
  /** the critic warm-up's optimizer (required for criticOnly iterations) */
  criticOptimizer?: tf.Optimizer;
  /** uniform [0, 1) generator for the minibatch shuffles */
  rng: () => number;
}

/** What one iteration did. */
export interface PpoStats {
  /** epochs run (fewer than config.epochs after a KL early stop) */
  epochs: number;
  /** approximate KL(old ‖ new) at the last check (NaN when none was made) */
  kl: number;
  /** GAE advantages (normalised) and returns of the batch */
  advantages: Float32Array;
  returns: Float32Array;
}

/**
 * One PPO iteration on a rollout: GAE, advantage normalisation, then `epochs` passes of shuffled
 * minibatches minimising −L^CLIP + c1·(V − R/valueScale)² − c2·entropy with `optimizer` over
 * model.variables; with `criticOnly` (the warm-up) only the value loss, with `criticOptimizer` over
 * model.criticVariables, and no KL check. Throws on inconsistent rollout sizes.
 */
export function ppoIteration(model: PpoModel, r: Rollout, c: PpoConfig, o: { criticOnly?: boolean } = {}): PpoStats {
  const n = r.actions.length;
  const width = r.obsShape.reduce((a, b) => a * b, 1);
  if (r.obs.length !== n * width) throw new Error(`ppo: ${r.obs.length} observation values for ${n} samples of ${width}`);
  if (r.logp.length !== n || r.rewards.length !== n) throw new Error('ppo: actions, logp and rewards differ in length');
  if (r.masks && r.masks.length !== n * r.nActions) throw new Error(`ppo: masks need ${n * r.nActions} values`);
  const critic = o.criticOnly ?? false;
  if (critic && !c.criticOptimizer) throw new Error('ppo: a critic-only iteration needs config.criticOptimizer');
  const { advantages, returns } = gae(r, c);
  normalizeAdvantages(advantages, c.advantageEpsilon ?? 1e-8);
  const clip = c.clip ?? 0.2;
  const valueScale = c.valueScale ?? 1;
  const valueCoef = c.valueCoef ?? 0.5;
  const A = r.nActions;
  // the whole batch, for the KL check only
  const whole =
    c.targetKl !== undefined && !critic
      ? {
          X: tf.tensor(r.obs, [n, ...r.obsShape]),
          M: r.masks ? tf.tensor2d(Float32Array.from(r.masks), [n, A]) : null,
          Act: tf.tensor1d(r.actions, 'int32'),
          LP: tf.tensor1d(r.logp),
        }
      : null;
  let epochs = c.epochs;
  let kl = NaN;
  try {
    for (let ep = 0; ep < c.epochs; ep++) {
      if (whole && ep > 0) {
        kl = tf.tidy(() => {
          const lg = model.forward(whole.X, n).logits;
          const lp = tf.logSoftmax(whole.M ? maskLogits(lg, whole.M) : lg);
          const newLp = tf.sum(tf.mul(lp, tf.oneHot(whole.Act, A)), 1);
          return tf.mean(tf.sub(whole.LP, newLp)).dataSync()[0];
        });
        if (kl > 1.5 * c.targetKl!) {
          epochs = ep;
          break;
        }
      }
      for (const idx of minibatches(permutation(n, c.rng), c.minibatch, c.dropPartialMinibatch)) {
        const B = idx.length;
        const X = tf.tensor(gatherRows(r.obs, idx, width), [B, ...r.obsShape]);
        const M = r.masks ? tf.tensor2d(gatherRows(r.masks, idx, A), [B, A]) : null;
        const AI = tf.tensor1d(
          Int32Array.from(idx, (k) => r.actions[k]),
          'int32',
        );
        const OH = tf.oneHot(AI, A);
        const OL = tf.tensor1d(Float32Array.from(idx, (k) => r.logp[k]));
        const AD = tf.tensor1d(Float32Array.from(idx, (k) => advantages[k]));
        const R = tf.tensor1d(Float32Array.from(idx, (k) => returns[k]));
        const loss = () => {
          const { logits, value } = model.forward(X, B);
          const vl = value.sub(R.div(valueScale)).square().mean();
          if (critic) return vl as tf.Scalar;
          const lp = tf.logSoftmax(M ? maskLogits(logits, M) : logits);
          const logp = lp.mul(OH).sum(1);
          const ratio = tf.exp(logp.sub(OL));
          const surr = tf.minimum(ratio.mul(AD), tf.clipByValue(ratio, 1 - clip, 1 + clip).mul(AD));
          // entropy over the feasible actions only (an infeasible action's p·log p is 0·(−1e9) → masked to 0)
          const plogp = M ? tf.exp(lp).mul(M).mul(lp.mul(M)) : tf.exp(lp).mul(lp);
          const ent = tf.neg(plogp.sum(1)).mean();
          return tf.neg(surr.mean()).add(vl.mul(valueCoef)).sub(ent.mul(c.entropy)) as tf.Scalar;
        };
        const cost = critic
          ? c.criticOptimizer!.minimize(loss, true, model.criticVariables)
          : c.optimizer.minimize(loss, true, model.variables);
        tf.dispose([X, AI, OH, OL, AD, R, cost!]);
        if (M) M.dispose();
      }
    }
  } finally {
    if (whole) tf.dispose([whole.X, whole.Act, whole.LP, ...(whole.M ? [whole.M] : [])]);
  }
  return { epochs, kl, advantages, returns };
}
