/**
 * Edge cache tuning (edge-intelligence-immersive-media, "Edge Caching for Multimedia Content"): the cache
 * size (rented by the byte) and the replacement strategy, chosen together by a learning agent over a window
 * of recent requests. Environment-agnostic: the reference edge (src/server/edge) and the cache simulator
 * (src/sim/cache) use the same store, policies, window and tuners:
 *   policies.ts  replacement policies (LRU, LFU with dynamic aging, GDSF, Belady as the offline bound)
 *   store.ts     ByteCache: byte-capacity accounting, eviction, resize and policy switch at run time
 *   window.ts    LearningWindow: request statistics over a window whose length follows popularity drift
 *   tuners.ts    the decision each interval: fixed, size-only rule, strategy-only rule, the learned agent
 *   agent.ts     the agent's fused action space, state encoding, reward and plain-JS network
 */

export * from './types.js';
export * from './policies.js';
export * from './store.js';
export * from './window.js';
export * from './agent.js';
export * from './tuners.js';
