/**
 * Faults found by the session-13 new-user trial (h13-user): input the SDK, the controller or a command line took
 * without a clear error and then lost work over. Each spec fails on the code the trial found.
 */
import { createEdgeplay } from '../../src/edgeplay.js';
import { Identity } from '../../src/telemetry/identity.js';

describe('createEdgeplay refuses a viewerId the controller would refuse (new-user trial, session 13)', () => {
  it("viewerId 'user-42' or an e-mail address: TypeError naming viewerId (every batch was answered 400 and dropped: all telemetry lost)", async () => {
    const endpoint = 'https://edge.example/v1/telemetry';
    for (const viewerId of ['user-42', 'alice@example.com', 'x'.repeat(65), '']) {
      expect(() => createEdgeplay({ endpoint, viewerId }))
        .withContext(viewerId)
        .toThrowError(TypeError, /edgeplay: viewerId must be 8–64 characters of \[A-Za-z0-9_-\]/);
    }
    const ep = createEdgeplay({ endpoint, viewerId: 'user-00000042' });
    expect(ep.viewerId).toBe('user-00000042');
    await ep.destroy();
  });

  it('a stored viewer or visit id that is not an id (another script of the origin wrote the key) is replaced, not sent', () => {
    const g = globalThis as Record<string, unknown>;
    const m = new Map<string, string>([
      ['edgeplay:viewer', 'alice@example.com'],
      ['edgeplay:session', JSON.stringify({ id: 'not an id', at: Date.now() })],
    ]);
    g.localStorage = {
      getItem: (k: string) => m.get(k) ?? null,
      setItem: (k: string, v: string) => void m.set(k, String(v)),
      removeItem: (k: string) => void m.delete(k),
    };
    try {
      const id = new Identity({ sessionTimeoutMs: 60_000, granted: true });
      expect(id.viewerId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(id.sessionId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(m.get('edgeplay:viewer')).toBe(id.viewerId);
      // consent granted later adopts a stored id only when it is one
      m.set('edgeplay:viewer', 'bob');
      const later = new Identity({ sessionTimeoutMs: 60_000, granted: false });
      later.grant();
      expect(later.viewerId).toMatch(/^[A-Za-z0-9_-]{8,64}$/);
      expect(m.get('edgeplay:viewer')).toBe(later.viewerId);
    } finally {
      delete g.localStorage;
    }
  });
});
