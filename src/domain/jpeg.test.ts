import { readdirSync, readFileSync } from 'node:fs';
import JSZip from 'jszip';
import { describe, expect, it } from 'vitest';
import { encodeJpeg } from '../../scripts/jpeg-encoder.js';
import { jpegProblem } from './jpeg.js';

const SAMPLES = new URL('../cli/samples/', import.meta.url);
const samples = readdirSync(SAMPLES)
  .filter((name) => name.endsWith('.jpg'))
  .map((name) => [name, readFileSync(new URL(name, SAMPLES))] as const);

/** A real baseline JPEG: SOI, APP0, DQT, SOF0, DHT, SOS, entropy-coded data, EOI. */
const picture = encodeJpeg({ width: 24, height: 16, pixel: (x, y) => [x * 10, y * 15, 128] });

/** Where the first segment with `marker` starts (its FF), in a JPEG without stray bytes. */
function segmentAt(jpeg: Buffer, marker: number): number {
  for (let at = 2; at < jpeg.length; at += 2 + jpeg.readUInt16BE(at + 2)) {
    if (jpeg[at + 1] === marker) return at;
  }
  throw new Error(`no segment ${marker.toString(16)}`);
}

const segment = (marker: number, body: Buffer) =>
  Buffer.concat([
    Buffer.from([0xff, marker]),
    Buffer.from([(body.length + 2) >> 8, (body.length + 2) & 0xff]),
    body,
  ]);

/** `jpeg` with `inserted` placed right after its start-of-image marker. */
const afterSoi = (jpeg: Buffer, ...inserted: Buffer[]) =>
  Buffer.concat([jpeg.subarray(0, 2), ...inserted, jpeg.subarray(2)]);

/** `jpeg` with the byte at `at` changed. */
function patched(jpeg: Buffer, at: number, value: number): Buffer {
  const copy = Buffer.from(jpeg);
  copy[at] = value;
  return copy;
}

describe('jpegProblem', () => {
  it.each(samples)('accepts the bundled sample %s', (_name, jpeg) => {
    expect(jpegProblem(jpeg)).toBeUndefined();
  });

  it('accepts JPEGs from the repository encoder at any size and quality', () => {
    for (const [width, height, quality] of [
      [1, 1, 85],
      [8, 8, 1],
      [33, 17, 100],
      [200, 3, 50],
    ] as const) {
      const jpeg = encodeJpeg({ width, height, pixel: (x, y) => [x % 256, y % 256, 7] }, quality);
      expect(jpegProblem(jpeg), `${width}×${height} q${quality}`).toBeUndefined();
    }
  });

  it('accepts a progressive frame header, EXIF metadata, comments and fill bytes before a marker', () => {
    const progressive = patched(picture, segmentAt(picture, 0xc0) + 1, 0xc2);
    expect(jpegProblem(progressive)).toBeUndefined();
    const exif = segment(0xe1, Buffer.concat([Buffer.from('Exif\0\0MM\0*'), Buffer.alloc(300, 1)]));
    const commented = segment(0xfe, Buffer.from('drawn, not photographed'));
    expect(jpegProblem(afterSoi(picture, exif, commented))).toBeUndefined();
    const sof = segmentAt(picture, 0xc0);
    const filled = Buffer.concat([
      picture.subarray(0, sof),
      Buffer.from([0xff, 0xff]),
      picture.subarray(sof),
    ]);
    expect(jpegProblem(filled)).toBeUndefined();
  });

  it('accepts zero bytes after the end-of-image marker, as camera hardware pads its stills', () => {
    expect(jpegProblem(Buffer.concat([picture, Buffer.alloc(3)]))).toBeUndefined();
    expect(jpegProblem(Buffer.concat([picture, Buffer.alloc(5000)]))).toBeUndefined();
  });

  it('refuses three bytes FF D8 FF, which a magic-number check took for a JPEG', () => {
    expect(jpegProblem(Buffer.from([0xff, 0xd8, 0xff]))).toBe('no start-of-image marker');
    expect(jpegProblem(Buffer.from([0xff, 0xd8, 0xff, 0xd9]))).toBe('no frame header with the dimensions');
  });

  it('refuses FF D8 FF followed by an HTML page or a zip', async () => {
    const html = Buffer.from('<html><body><script>alert(1)</script></body></html>');
    expect(jpegProblem(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), html]))).toMatch(/end-of-image/);
    const zip = await new JSZip().file('payload.html', html).generateAsync({ type: 'nodebuffer' });
    expect(jpegProblem(Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), zip]))).toMatch(/end-of-image/);
    // Ending in FF D9 does not help: the segments must still make a JPEG.
    const dressed = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), zip, Buffer.from([0xff, 0xd9])]);
    expect(jpegProblem(dressed)).toBeDefined();
  });

  it('refuses a real JPEG with a zip or anything else but zeros appended', async () => {
    const zip = await new JSZip().file('a.txt', 'polyglot').generateAsync({ type: 'nodebuffer' });
    expect(jpegProblem(Buffer.concat([picture, zip]))).toMatch(/end-of-image/);
    expect(jpegProblem(Buffer.concat([picture, Buffer.from([0, 0, 1])]))).toMatch(/end-of-image/);
  });

  it('refuses a JPEG cut short, whose last segment runs past its end', () => {
    const cut = Buffer.concat([picture.subarray(0, segmentAt(picture, 0xc0) + 6), Buffer.from([0xff, 0xd9])]);
    expect(jpegProblem(cut)).toBe('a marker segment runs past the end');
  });

  it('refuses a frame header with no width or no height', () => {
    const sof = segmentAt(picture, 0xc0);
    expect(jpegProblem(patched(patched(picture, sof + 5, 0), sof + 6, 0))).toBe(
      'a frame header without width or height',
    );
    expect(jpegProblem(patched(patched(picture, sof + 7, 0), sof + 8, 0))).toBe(
      'a frame header without width or height',
    );
  });

  it('does not take a Huffman table, JPG or arithmetic-coding marker for a frame header', () => {
    for (const notFrame of [0xc4, 0xc8, 0xcc]) {
      const renamed = patched(picture, segmentAt(picture, 0xc0) + 1, notFrame);
      expect(jpegProblem(renamed), notFrame.toString(16)).toBe('a scan before any frame header');
    }
  });

  it('refuses a scan without a frame header, and a frame without a scan', () => {
    const sof = segmentAt(picture, 0xc0);
    const withoutFrame = Buffer.concat([
      picture.subarray(0, sof),
      picture.subarray(sof + 2 + picture.readUInt16BE(sof + 2)),
    ]);
    expect(jpegProblem(withoutFrame)).toBe('a scan before any frame header');
    const sos = segmentAt(picture, 0xda);
    expect(jpegProblem(Buffer.concat([picture.subarray(0, sos), Buffer.from([0xff, 0xd9])]))).toBe(
      'no scan after the frame header',
    );
  });

  it('refuses a frame header that counts no components, or more than it holds', () => {
    const sof = segmentAt(picture, 0xc0);
    expect(jpegProblem(patched(picture, sof + 9, 0))).toBe('a frame header too short for its components');
    expect(jpegProblem(patched(picture, sof + 9, 4))).toBe('a frame header too short for its components');
  });

  it('refuses bytes between segments that are not a marker', () => {
    const sof = segmentAt(picture, 0xc0);
    const stray = Buffer.concat([picture.subarray(0, sof), Buffer.from([0x00]), picture.subarray(sof)]);
    expect(jpegProblem(stray)).toBe('a marker segment is followed by something that is not a marker');
  });

  it('skips what segments hold, even comment text of FF bytes, across a 4 MiB image', () => {
    const large = afterSoi(
      picture,
      ...Array.from({ length: 64 }, () => segment(0xfe, Buffer.alloc(65_533, 0xff))),
    );
    expect(large.length).toBeGreaterThan(4 * 1024 * 1024);
    expect(jpegProblem(large)).toBeUndefined();
  });
});
