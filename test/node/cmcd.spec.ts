/** CMCD values the SDK sends are valid CTA-5004 (issue 18 item 14): cid printable ASCII, at most 64 characters. */
import { decodeCmcd, encodeCmcd } from '@svta/cml-cmcd';
import { CMCD_CID_MAX, cmcdContentId } from '../../src/telemetry/cmcd.js';

describe('CMCD content id', () => {
  it('keeps a valid id and makes any other one valid, distinct and decodable', () => {
    expect(cmcdContentId('vod-1')).toBe('vod-1');
    expect(cmcdContentId('a'.repeat(64))).toBe('a'.repeat(64));
    const ids = [
      'x'.repeat(79),
      'x'.repeat(78) + 'y',
      'Tagesschau – 20:00 Uhr',
      '新闻 '.repeat(30),
      'quote " and \\ backslash',
      '100% sure',
    ];
    const out = ids.map(cmcdContentId);
    for (const [i, c] of out.entries()) {
      expect(c.length).withContext(ids[i]).toBeLessThanOrEqual(CMCD_CID_MAX);
      expect(/^[\x20-\x7e]+$/.test(c))
        .withContext(c)
        .toBeTrue();
      // a structured-field string survives the round trip through the CMCD encoder/decoder hls.js' family uses
      expect(decodeCmcd(encodeCmcd({ cid: c })).cid).toBe(c);
    }
    expect(new Set(out).size).toBe(ids.length);
    expect(out[2]).toBe('Tagesschau %E2%80%93 20:00 Uhr');
    expect(out[5]).toBe('100%25 sure');
  });
});
