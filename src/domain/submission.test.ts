import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeImages, type EncodedImage, statusShowsZip } from './submission.js';

const SELFIE = readFileSync(new URL('../cli/samples/selfie.jpg', import.meta.url));
const LIMIT = { maxImageBytes: SELFIE.length };
const encoded = (type: EncodedImage['type'], bytes: Buffer): EncodedImage => ({
  type,
  jpegBase64: bytes.toString('base64'),
});
const codeOf = (result: ReturnType<typeof decodeImages>) =>
  'problem' in result ? result.problem.code : 'ok';

describe('decodeImages', () => {
  it('decodes a request whose images are JPEGs up to the limit exactly', () => {
    const result = decodeImages([encoded('selfie', SELFIE), encoded('liveness', SELFIE)], LIMIT);
    expect('images' in result && result.images.map((image) => image.jpeg.equals(SELFIE))).toEqual([
      true,
      true,
    ]);
  });

  it('refuses an image one byte over the limit as too large, by its base64 length', () => {
    const over = Buffer.concat([SELFIE, Buffer.alloc(1)]);
    expect(decodeImages([encoded('selfie', over)], LIMIT)).toEqual({
      problem: { code: 'IMAGE_TOO_LARGE', index: 0, bytes: SELFIE.length + 1, limit: SELFIE.length },
    });
  });

  it('says too large before it decodes anything, whatever else is wrong with a later or earlier image', () => {
    const tooLarge = { type: 'liveness', jpegBase64: 'A'.repeat(SELFIE.length * 2) } as const;
    expect(codeOf(decodeImages([{ type: 'selfie', jpegBase64: 'not base64!' }, tooLarge], LIMIT))).toBe(
      'IMAGE_TOO_LARGE',
    );
  });

  it('counts images before anything else', () => {
    expect(decodeImages([encoded('liveness', SELFIE)], LIMIT)).toEqual({
      problem: { code: 'IMAGE_COUNT', type: 'selfie', min: 1, max: 1, count: 0 },
    });
    expect(codeOf(decodeImages([encoded('selfie', SELFIE), encoded('selfie', SELFIE)], LIMIT))).toBe(
      'IMAGE_COUNT',
    );
  });

  it('refuses base64 that is not strict, and bytes that are not a JPEG, each with its own code', () => {
    const lineBroken = { type: 'selfie', jpegBase64: `${SELFIE.toString('base64').slice(0, 76)}\n` } as const;
    expect(codeOf(decodeImages([lineBroken], LIMIT))).toBe('IMAGE_NOT_BASE64');
    expect(codeOf(decodeImages([encoded('selfie', Buffer.from([0xff, 0xd8, 0xff]))], LIMIT))).toBe(
      'IMAGE_NOT_JPEG',
    );
    const html = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), Buffer.from('<html></html>')]);
    expect(decodeImages([encoded('selfie', html)], LIMIT)).toMatchObject({
      problem: { code: 'IMAGE_NOT_JPEG', index: 0, reason: expect.any(String) },
    });
  });
});

describe('statusShowsZip', () => {
  it('reads a result, a complete job or any message but "no zip" as Smile ID having the zip', () => {
    expect(statusShowsZip({ job_complete: false, result: { ResultCode: '0814' } })).toBe(true);
    expect(statusShowsZip({ job_complete: true, result: 'No zip uploaded yet' })).toBe(true);
    expect(statusShowsZip({ job_complete: false, result: 'Processing' })).toBe(true);
  });

  it('reads "No zip uploaded yet", an empty result or none as no zip', () => {
    expect(statusShowsZip({ job_complete: false, result: 'No zip uploaded yet' })).toBe(false);
    expect(statusShowsZip({ job_complete: false, result: 'no ZIP received' })).toBe(false);
    expect(statusShowsZip({ job_complete: false, result: '' })).toBe(false);
    expect(statusShowsZip({ job_complete: false, result: null })).toBe(false);
    expect(statusShowsZip({})).toBe(false);
  });
});
