/**
 * The steering client's playlist work (src/edge/client.ts), on playlist text as the CDN serves it: the variants
 * and renditions negotiate() reports, the labels injectSteering() adds, the edge pathway startOnPathway() adds
 * so playback starts on the assigned edge (issue 18: 10, 12), and the CMSD cap the player applies (13, 15).
 */
import { decodeCmsdDynamic } from '@svta/cml-cmsd';
import {
  injectSteering,
  levelCapIndex,
  playlistRenditions,
  playlistVariants,
  readCmsdMaxBitrate,
  startOnPathway,
} from '../../src/edge/client.js';
import { buildServer } from '../../src/server/app.js';
import { MemoryTelemetryStore } from '../../src/server/store.js';

const CDN = 'http://cdn.example/live/show/master.m3u8';
// demuxed: alternate audio (two languages), WebVTT subtitles, closed captions in-band
const MASTER = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="audio/en/index.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="Deutsch",LANGUAGE="de",URI="audio/de/index.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=800000,AVERAGE-BANDWIDTH=600000,RESOLUTION=640x360,AUDIO="aud",SUBTITLES="subs",CLOSED-CAPTIONS="cc"
v360/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2500000,RESOLUTION=1280x720,AUDIO="aud",SUBTITLES="subs",CLOSED-CAPTIONS="cc"
http://cdn.example/live/show/v720/index.m3u8?sig=abc
`;
const MEDIA = `#EXTM3U
#EXT-X-TARGETDURATION:4
#EXTINF:4.0,
seg0.ts
#EXT-X-ENDLIST
`;

describe('steering client: playlists', () => {
  it('reports every variant (with its declared bitrates) and every rendition with a URI, none for a media playlist', () => {
    expect(playlistVariants(MASTER, CDN)).toEqual([
      { id: 'v0', uri: 'http://cdn.example/live/show/v360/index.m3u8', bandwidth: 800000, average_bandwidth: 600000 },
      { id: 'v1', uri: 'http://cdn.example/live/show/v720/index.m3u8?sig=abc', bandwidth: 2500000 },
    ]);
    expect(playlistRenditions(MASTER, CDN)).toEqual([
      { id: 'r0', uri: 'http://cdn.example/live/show/audio/en/index.m3u8' },
      { id: 'r1', uri: 'http://cdn.example/live/show/audio/de/index.m3u8' },
      { id: 'r2', uri: 'http://cdn.example/live/show/subs/en.m3u8' },
    ]);
    expect(playlistVariants(MEDIA, CDN)).toEqual([]);
    expect(injectSteering(MEDIA, 'http://ctl/v1/steering/s')).toBe(MEDIA);
    // the labels negotiate() reports are the ones the loader puts on the playlist
    const labelled = injectSteering(MASTER, 'http://ctl/v1/steering/s');
    expect(labelled).toContain('#EXT-X-CONTENT-STEERING:SERVER-URI="http://ctl/v1/steering/s",PATHWAY-ID="cdn"');
    expect(playlistVariants(labelled, CDN).map((v) => v.id)).toEqual(['v0', 'v1']);
    expect(playlistRenditions(labelled, CDN).map((r) => r.id)).toEqual(['r0', 'r1', 'r2']);
    expect(labelled).not.toMatch(/INSTREAM-ID="CC1",STABLE-RENDITION-ID/); // captions have no URI to move
  });

  it("starts on the edge pathway with every variant and rendition on the edge, as the controller's clone says", async () => {
    const app = await buildServer({
      store: new MemoryTelemetryStore(),
      edges: [{ id: 'edge-1', url: 'http://edge-1.example:81', setting: 'mid' }],
    });
    try {
      const a = (
        await app.inject({
          method: 'POST',
          url: '/v1/negotiate',
          payload: {
            viewer_id: 'viewer-1',
            channel: 'show',
            rtt_ms: { cdn: 600, 'edge-1': 10 },
            bandwidth_mbps: 20,
            variants: playlistVariants(MASTER, CDN),
            renditions: playlistRenditions(MASTER, CDN),
          },
        })
      ).json();
      expect(a.assignment.target).toBe('edge-1');
      const out = startOnPathway(injectSteering(MASTER, 'http://ctl/s'), a.assignment.clone, CDN)!;
      expect(out).not.toBeNull();
      const lines = out.split('\n');
      expect(lines.filter((l) => l.startsWith('#EXT-X-CONTENT-STEERING'))).toEqual([
        '#EXT-X-CONTENT-STEERING:SERVER-URI="http://ctl/s",PATHWAY-ID="edge-1"',
      ]);
      // the CDN pathway stays (hls.js falls back to it); the edge pathway has the same variants, on the edge
      const edgeVariants = lines.flatMap((l, i) =>
        l.startsWith('#EXT-X-STREAM-INF') && l.includes('PATHWAY-ID="edge-1"') ? [[l, lines[i + 1]]] : [],
      );
      const cdnVariants = lines.filter((l) => l.startsWith('#EXT-X-STREAM-INF') && l.includes('PATHWAY-ID="cdn"'));
      expect(cdnVariants.length).toBe(2);
      expect(edgeVariants.map(([, u]) => u)).toEqual([
        'http://edge-1.example:81/live/show/v360/index.m3u8',
        'http://edge-1.example:81/live/show/v720/index.m3u8?sig=abc',
      ]);
      for (const [l] of edgeVariants) {
        expect(l).toContain('AUDIO="aud_clone_edge-1"');
        expect(l).toContain('SUBTITLES="subs_clone_edge-1"');
        expect(l).toContain('CLOSED-CAPTIONS="cc"');
      }
      expect(edgeVariants.map(([l]) => /STABLE-VARIANT-ID="(\w+)"/.exec(l)![1])).toEqual(['v0', 'v1']);
      // every URI the edge pathway's levels reach is on the edge: the variants and their renditions
      const edgeMedia = lines.filter((l) => l.startsWith('#EXT-X-MEDIA') && /_clone_edge-1"/.test(l));
      expect(edgeMedia.map((l) => /URI="([^"]+)"/.exec(l)![1])).toEqual([
        'http://edge-1.example:81/live/show/audio/en/index.m3u8',
        'http://edge-1.example:81/live/show/audio/de/index.m3u8',
        'http://edge-1.example:81/live/show/subs/en.m3u8',
      ]);
      // a clone that misses a rendition, or maps a variant to another path, does not start the edge
      const noAudio = {
        ...a.assignment.clone,
        'URI-REPLACEMENT': { 'PER-VARIANT-URIS': a.assignment.clone['URI-REPLACEMENT']['PER-VARIANT-URIS'] },
      };
      expect(startOnPathway(injectSteering(MASTER, 'http://ctl/s'), noAudio, CDN)).toBeNull();
      const swapped = {
        ...a.assignment.clone,
        'URI-REPLACEMENT': {
          ...a.assignment.clone['URI-REPLACEMENT'],
          'PER-VARIANT-URIS': {
            v0: 'http://edge-1.example:81/live/show/v720/index.m3u8?sig=abc',
            v1: 'http://edge-1.example:81/live/show/v360/index.m3u8',
          },
        },
      };
      expect(startOnPathway(injectSteering(MASTER, 'http://ctl/s'), swapped, CDN)).toBeNull();
    } finally {
      await app.close();
    }
  });
});

describe('steering client: the negotiated cap', () => {
  it("reads the pathway and mb of the controller's CMSD-Dynamic as @svta/cml-cmsd decodes them", () => {
    for (const h of ['"edge-1";mb=2108;etp=20000', '"edge-1";etp=20000;mb=2108;du', '"edge-1"', '"cdn";etp=5000']) {
      const [d] = decodeCmsdDynamic(h);
      expect(readCmsdMaxBitrate(h))
        .withContext(h)
        .toEqual({ pathway: d.value as string, mbKbps: (d.params?.mb as number | undefined) ?? null });
    }
    expect(readCmsdMaxBitrate('"edge-1";mbx=1')).toEqual({ pathway: 'edge-1', mbKbps: null });
    expect(readCmsdMaxBitrate(null)).toBeNull();
    expect(readCmsdMaxBitrate('garbage')).toBeNull();
  });

  it('caps at the highest level whose BANDWIDTH is at or below mb, and at the lowest when none is', () => {
    const levels = [569700, 1314700, 2107746, 3170392, 4900780, 7413026].map((bitrate) => ({ bitrate }));
    expect(levelCapIndex(levels, Math.ceil(2107746 / 1000))).toBe(2);
    expect(levelCapIndex(levels, 3170)).toBe(2); // 3170392 > 3170 kbit/s
    expect(levelCapIndex(levels, 100000)).toBe(5);
    expect(levelCapIndex(levels, 100)).toBe(0);
  });
});
