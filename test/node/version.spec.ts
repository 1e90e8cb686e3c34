import { readFileSync } from 'node:fs';
import { VERSION } from '../../src/core/version.js';

describe('package', () => {
  it('keeps src/core/version.ts equal to package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
  });

  it('lists types first in exports and keeps hls.js a peer dependency', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(Object.keys(pkg.exports['.'])[0]).toBe('types');
    expect(pkg.peerDependencies['hls.js']).toMatch(/>=\s*1\.6/);
    expect(pkg.dependencies?.['hls.js']).toBeUndefined();
  });
});
