/**
 * A live-streaming viewer population (ELCast's crowdcast setting), calibrated to the Twitch data in
 * `$EDGEPLAY_DATA/live` and to the paper's measurements. Every parameter is in POPULATION_DEFAULTS with
 * where it comes from; `npm run bench:profile` prints the table comparing the simulated population with
 * the measured statistics (the simulated viewers are "observed" the way the Twitch crawler observed real
 * ones: a chat user list polled every 10 minutes).
 *
 * A viewer makes visits (arrivals follow a daily cycle); a visit is a sequence of watches of different
 * channels; a watch has a duration and a number of chat messages. Viewer traits are latent: the profiler
 * has to infer them from the viewer's own history.
 */
import { mulberry32 } from '../../core/random.js';

export interface PopulationParams {
  viewers: number;
  channels: number;
  days: number;
  /** channel popularity ∝ (rank + zipfQ)^−zipfS */
  zipfS: number;
  zipfQ: number;
  /** visits per viewer per day: lognormal median and sigma */
  visitsPerDayMedian: number;
  visitsPerDaySigma: number;
  /** daily cycle: arrival rate ∝ 1 + A·cos(2π(hour − peakHour)/24) */
  dailyAmplitude: number;
  peakHour: number;
  /** share of viewers who hop: watch each channel about a minute, then switch */
  hopperShare: number;
  hopperWatchMedianS: number;
  stayerWatchMedianS: number;
  /** sigma of log watch duration within a viewer, and of viewers' medians across stayers */
  watchSigma: number;
  stayerMedianSigma: number;
  /** channels per visit: 1 + geometric with mean extra (hoppers, stayers) */
  hopperExtraChannels: number;
  stayerExtraChannels: number;
  /** favourite channels per viewer and the probability a watch goes to one */
  favourites: number;
  favouriteProb: number;
  /** share of viewers who ever chat; chat rate (msgs/hour) lognormal median, sigma */
  chatterShare: number;
  chatRateMedian: number;
  chatRateSigma: number;
  /** channel chat factor: lognormal sigma (some channels' chats are busier) */
  channelChatSigma: number;
  seed: number;
}

/** Parameters and their sources (data = $EDGEPLAY_DATA/live README facts; paper = ELCast's measurements). */
export const POPULATION_DEFAULTS: PopulationParams = {
  viewers: 1616, // data: train users of the Twitch sample
  channels: 1732, // data: streamers in the Twitch sample
  days: 43, // data: the crawl covered 43 days
  zipfS: 1.0, // fitted: rank-frequency slope 1.03 overall, flatter head (0.58 top 100, 0.79 top 1000) in the data
  zipfQ: 12,
  visitsPerDayMedian: 1.3, // fitted: median 45 observed interactions per user over 43 days (data)
  visitsPerDaySigma: 0.9,
  dailyAmplitude: 0.375, // data: peak/trough 2.2 of the slot-of-day histogram → (1+A)/(1−A) = 2.2
  peakHour: 21, // data: peak hour-of-day bucket (dataset time zone)
  hopperShare: 0.4, // paper: ~40 % of viewers watch each channel about a minute, then switch
  hopperWatchMedianS: 60, // paper: "for 1 minute on average"
  stayerWatchMedianS: 1800, // fitted: so that most watches span several 10-min polls (data)
  watchSigma: 0.8,
  stayerMedianSigma: 0.7,
  hopperExtraChannels: 3, // paper: hoppers browse several channels per visit
  stayerExtraChannels: 0.4, // fitted: channels per polled visit, 1.11 (data)
  favourites: 4, // fitted: 92 % of consecutive observed interactions are with a different streamer (data)
  favouriteProb: 0.6,
  chatterShare: 0.13, // paper: 87 % of viewers never chat
  chatRateMedian: 10, // fitted between two pulls: > 5 % of viewers send > 10 msgs per session (paper) and,
  chatRateSigma: 1.6, // in 2 h of chat, the median chatter sends 2 and 15–22 % send > 10 (data chat log)
  channelChatSigma: 0.4,
  seed: 1,
};

export interface Watch {
  user: number;
  channel: number;
  visit: number;
  /** seconds since the start of the simulation */
  start: number;
  duration: number;
  msgs: number;
}

export interface ViewerTraits {
  hopper: boolean;
  chatRate: number;
  watchMedianS: number;
  extraChannels: number;
  visitsPerDay: number;
}

export interface Population {
  params: PopulationParams;
  watches: Watch[];
  traits: ViewerTraits[];
}

function normal(rng: () => number): number {
  const u = Math.max(1e-12, rng());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

export function simulatePopulation(over: Partial<PopulationParams> = {}): Population {
  const P = { ...POPULATION_DEFAULTS, ...over };
  const rng = mulberry32(P.seed);
  // channel popularity (cumulative) and chat factor
  const pop = new Float64Array(P.channels);
  let tot = 0;
  for (let r = 0; r < P.channels; r++) tot += pop[r] = (r + 1 + P.zipfQ) ** -P.zipfS;
  const cum = new Float64Array(P.channels);
  let acc = 0;
  for (let r = 0; r < P.channels; r++) cum[r] = acc += pop[r] / tot;
  const pick = () => {
    const x = rng();
    let lo = 0,
      hi = P.channels - 1;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (cum[m] < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  const chatFactor = Float64Array.from({ length: P.channels }, () => Math.exp(P.channelChatSigma * normal(rng)));
  const watches: Watch[] = [];
  const traits: ViewerTraits[] = [];
  const horizon = P.days * 86400;
  const maxRate = 1 + P.dailyAmplitude;
  let visitId = 0;
  for (let u = 0; u < P.viewers; u++) {
    const hopper = rng() < P.hopperShare;
    const chatter = rng() < P.chatterShare;
    const t: ViewerTraits = {
      hopper,
      chatRate: chatter ? P.chatRateMedian * Math.exp(P.chatRateSigma * normal(rng)) : 0,
      watchMedianS: hopper ? P.hopperWatchMedianS : P.stayerWatchMedianS * Math.exp(P.stayerMedianSigma * normal(rng)),
      extraChannels: hopper ? P.hopperExtraChannels : P.stayerExtraChannels,
      visitsPerDay: P.visitsPerDayMedian * Math.exp(P.visitsPerDaySigma * normal(rng)),
    };
    traits.push(t);
    const favs = Array.from({ length: P.favourites }, pick);
    // visits: thinned Poisson process with the daily cycle
    let time = 0;
    const lambdaMax = (t.visitsPerDay * maxRate) / 86400;
    for (;;) {
      time += -Math.log(Math.max(1e-12, rng())) / lambdaMax;
      if (time >= horizon) break;
      const hour = (time / 3600) % 24;
      if (rng() * maxRate > 1 + P.dailyAmplitude * Math.cos((2 * Math.PI * (hour - P.peakHour)) / 24)) continue;
      const n = 1 + Math.floor(Math.log(Math.max(1e-12, rng())) / Math.log(t.extraChannels / (1 + t.extraChannels)));
      let at = time;
      let prev = -1;
      for (let k = 0; k < n && at < horizon; k++) {
        let ch = rng() < P.favouriteProb ? favs[Math.floor(rng() * favs.length)] : pick();
        for (let tries = 0; ch === prev && tries < 5; tries++) ch = pick();
        const duration = Math.min(6 * 3600, Math.max(5, t.watchMedianS * Math.exp(P.watchSigma * normal(rng))));
        const mean = (t.chatRate * chatFactor[ch] * duration) / 3600;
        watches.push({ user: u, channel: ch, visit: visitId, start: at, duration, msgs: poisson(mean, rng) });
        at += duration + 2 + rng() * 8; // a few seconds to switch
        prev = ch;
      }
      visitId++;
      time = Math.max(time, at);
    }
  }
  watches.sort((a, b) => a.start - b.start);
  return { params: P, watches, traits };
}

function poisson(mean: number, rng: () => number): number {
  if (mean <= 0) return 0;
  if (mean > 50) return Math.max(0, Math.round(mean + Math.sqrt(mean) * normal(rng)));
  const L = Math.exp(-mean);
  let k = 0,
    p = 1;
  do {
    k++;
    p *= rng();
  } while (p > L);
  return k - 1;
}
