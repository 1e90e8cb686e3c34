import { bytesBetween, parseTrace, rateAt, stepTrace, traceMeanMbps, TraceFormatError } from '../../src/core/trace.js';

describe('throughput traces', () => {
  it('parses the two-column format and rejects bad lines with their line number', () => {
    const t = parseTrace('0.0\t1.5\n1.0\t2.0\n2.5 3.0\n', 'x');
    expect(t.times).toEqual([0, 1, 2.5]);
    expect(t.mbps).toEqual([1.5, 2, 3]);
    expect(() => parseTrace('0 1\n1 abc\n', 'bad')).toThrowMatching((e) => e instanceof TraceFormatError && /bad:2/.test(e.message));
    expect(() => parseTrace('0 1\n0 2\n', 'dup')).toThrowError(TraceFormatError, /does not increase/);
    expect(() => parseTrace('0 1\n', 'one')).toThrowError(TraceFormatError);
  });

  it('uses the Pensieve interval convention: sample k holds over (t[k-1], t[k]]', () => {
    const t = parseTrace('0 100\n1 8\n3 16\n');
    expect(rateAt(t, 0.5)).toBe(1e6); // 8 Mbps = 1e6 B/s, the first line's value is never used
    expect(rateAt(t, 2)).toBe(2e6);
    expect(bytesBetween(t, 0, 1)).toBeCloseTo(1e6, 6);
    expect(bytesBetween(t, 0, 3)).toBeCloseTo(1e6 + 4e6, 6);
  });

  it('wraps around at the end', () => {
    const t = stepTrace('s', [
      [10, 8],
      [10, 0],
    ]);
    expect(bytesBetween(t, 0, 40)).toBeCloseTo(2 * 10e6, 3);
    expect(bytesBetween(t, 25, 35)).toBeCloseTo(5e6, 3);
    expect(traceMeanMbps(t)).toBeCloseTo(4, 9);
    expect(rateAt(t, 15)).toBe(0);
  });
});
