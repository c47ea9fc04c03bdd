/**
 * Real JPEGs of a chosen size, for tests and benches: the encoder's pictures, grown with comment segments.
 */
import { encodeJpeg } from './jpeg-encoder.js';

/** A COM segment: its marker, its length (which counts itself), its text. */
const comment = (text: Buffer) =>
  Buffer.concat([Buffer.from([0xff, 0xfe, (text.length + 2) >> 8, (text.length + 2) & 0xff]), text]);
const MAX_COMMENT_TEXT = 0xffff - 2;
const COMMENT_OVERHEAD = 4;

/** `jpeg` with `text` in comment segments right after its start-of-image marker: still a valid JPEG. */
export function withComments(jpeg: Buffer, text: Buffer): Buffer {
  const segments: Buffer[] = [];
  for (let at = 0; at < text.length; at += MAX_COMMENT_TEXT) {
    segments.push(comment(text.subarray(at, at + MAX_COMMENT_TEXT)));
  }
  return Buffer.concat([jpeg.subarray(0, 2), ...segments, jpeg.subarray(2)]);
}

/** An 8×8 grey JPEG from the repository's encoder: the smallest real picture. */
export const TINY_JPEG = encodeJpeg({ width: 8, height: 8, pixel: () => [128, 128, 128] });

/**
 * A real JPEG of exactly `bytes` bytes: a picture of noise (which does not compress) drawn to about 90 %
 * of the size, the rest in comment segments. Deterministic for a given size.
 */
export function jpegOfSize(bytes: number): Buffer {
  // Noise at quality 100 takes about 3.5 bytes a pixel, beside some 600 bytes of headers and tables;
  // pixels are encoded in 8×8 blocks.
  const side = 8 * Math.max(1, Math.floor(Math.sqrt(Math.max(0, bytes * 0.9 - 1024) / 3.5) / 8));
  let seed = bytes;
  const noise = () => {
    seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
    return seed & 0xff;
  };
  const picture = encodeJpeg({ width: side, height: side, pixel: () => [noise(), noise(), noise()] }, 100);
  const padding = bytes - picture.length;
  if (padding === 0) return picture;
  // n segments of text share what is left once their own headers are counted.
  const count = Math.ceil(padding / (MAX_COMMENT_TEXT + COMMENT_OVERHEAD));
  const text = padding - COMMENT_OVERHEAD * count;
  if (padding < COMMENT_OVERHEAD || text < 0) throw new Error(`cannot make a JPEG of exactly ${bytes} bytes`);
  const segments = Array.from({ length: count }, (_, index) =>
    comment(Buffer.alloc(Math.floor(text / count) + (index < text % count ? 1 : 0), 'c')),
  );
  return Buffer.concat([picture.subarray(0, 2), ...segments, picture.subarray(2)]);
}
