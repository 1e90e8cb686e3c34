/** The worker bundle (dist/edgeplay.worker.js) starts and answers through comlink within a deadline. */
import { DeadlineError, startWorker, withDeadline } from '../../src/index.js';

describe('worker bundle', () => {
  it('answers ping and info over comlink', async () => {
    const w = startWorker('/base/dist/edgeplay.worker.js');
    try {
      const t = performance.now();
      expect(await withDeadline(w.api.ping(t), 5000)).toBe(t);
      const info = await w.api.info();
      expect(info.version).toMatch(/^\d+\.\d+\.\d+/);
      w.terminate();
      // a terminated worker never answers: the deadline turns that into a clean error to fall back on
      await expectAsync(withDeadline(w.api.ping(1), 50)).toBeRejectedWithError(DeadlineError);
    } finally {
      w.terminate();
    }
  });
});
