import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BULKY_STRING_MIN_CHARS,
  bulkySpans,
  decodeEnvelope,
  encodeEnvelope,
  joinBody,
  MAX_PARTS,
  splitBody,
} from './body-parts.js';

const photo = (chars: number, seed = 'photo') => {
  let text = '';
  let block = createHash('sha256').update(seed).digest();
  while (text.length < chars) {
    text += block.toString('base64').replace(/=+$/, '');
    block = createHash('sha256').update(block).digest();
  }
  return text.slice(0, chars - (chars % 4));
};

const roundTrip = (raw: Buffer) => {
  const { skeleton, layout, parts } = splitBody(raw, bulkySpans(raw));
  const envelope = encodeEnvelope({ skeleton, skeletonForm: 'json', layout });
  const opened = decodeEnvelope(envelope)!;
  return { joined: joinBody(opened.skeleton, opened.layout, parts), skeleton, layout, parts };
};

describe('bulky strings of a body', () => {
  it('finds the ID photo and leaves short values, keys and text alone', () => {
    const image = photo(10_000);
    const raw = Buffer.from(
      JSON.stringify({
        FullName: 'Ada Okafor',
        Photo: image,
        Address: 'a long road, '.repeat(500),
        IDNumber: '123',
      }),
    );
    const spans = bulkySpans(raw);
    expect(spans).toHaveLength(1);
    expect(raw.toString('latin1', spans[0]!.start, spans[0]!.end)).toBe(image);
  });

  it('leaves a string just below the threshold in the row and takes one at it', () => {
    const below = Buffer.from(JSON.stringify({ Photo: 'A'.repeat(BULKY_STRING_MIN_CHARS - 1) }));
    const at = Buffer.from(JSON.stringify({ Photo: 'A'.repeat(BULKY_STRING_MIN_CHARS) }));
    expect(bulkySpans(below)).toEqual([]);
    expect(bulkySpans(at)).toHaveLength(1);
  });

  it('never takes a key, however long, and reads escaped quotes inside strings', () => {
    const key = 'K'.repeat(4000);
    const raw = Buffer.from(`{"${key}": 1, "note": "say \\"hi\\" \\\\", "Document": "${photo(4000)}"}`);
    const spans = bulkySpans(raw);
    expect(spans).toHaveLength(1);
    expect(raw.toString('latin1', spans[0]!.start - 13, spans[0]!.start)).toBe('"Document": "');
  });

  it('takes the images of a job_status answer, nested in its history', () => {
    const raw = Buffer.from(
      JSON.stringify({ result: { Photo: photo(5000, 'a') }, history: [{ Photo: photo(6000, 'b') }] }),
    );
    expect(bulkySpans(raw)).toHaveLength(2);
  });

  it('keeps at most MAX_PARTS parts, the largest, in body order', () => {
    const sizes = Array.from({ length: MAX_PARTS + 3 }, (_, index) => 3000 + index * 100);
    const raw = Buffer.from(JSON.stringify(sizes.map((size, index) => photo(size, String(index)))));
    const spans = bulkySpans(raw);
    expect(spans).toHaveLength(MAX_PARTS);
    expect(spans.map((span) => span.end - span.start)).toEqual(
      sizes.slice(3).map((size) => size - (size % 4)),
    );
  });
});

describe('a body split and joined again', () => {
  it('gives back the exact bytes, and its digest, with the photo decoded to a quarter fewer bytes', () => {
    const raw = Buffer.from(`{ "Photo" : "${photo(1_400_000)}",\n "ResultCode": "1012" }`);
    const { joined, skeleton, parts, layout } = roundTrip(raw);
    expect(joined.equals(raw)).toBe(true);
    expect(skeleton.toString()).toBe('{ "Photo" : "",\n "ResultCode": "1012" }');
    expect(layout).toEqual([{ at: 13, length: 1_400_000, form: 'base64' }]);
    expect(parts[0]!.length).toBe(1_050_000);
  });

  it('keeps the bytes of an image written with escaped slashes or line breaks as they came', () => {
    const escapedImage = photo(6000).replaceAll('/', '\\/');
    const wrapped = photo(6000, 'w')
      .match(/.{1,76}/g)!
      .join('\\n');
    for (const image of [escapedImage, wrapped]) {
      const raw = Buffer.from(`{"Photo":"${image}"}`);
      const { joined, layout } = roundTrip(raw);
      expect(layout[0]?.form).toBe('bytes');
      expect(joined.equals(raw)).toBe(true);
    }
  });

  it('keeps URL-safe base64, padding in the middle and stray last bits as the bytes they came as', () => {
    const image = photo(6000);
    for (const text of [
      image.replaceAll('+', '-').replaceAll('/', '_'),
      `${image.slice(0, 3000)}==${image.slice(3002)}`,
      `${image.slice(0, -2)}B=`,
    ]) {
      const raw = Buffer.from(JSON.stringify({ Photo: text }));
      const { joined, layout } = roundTrip(raw);
      expect(layout.map((place) => place.form)).toEqual(['bytes']);
      expect(joined.equals(raw)).toBe(true);
    }
  });

  it('takes a data URL image, its header and all', () => {
    const raw = Buffer.from(JSON.stringify({ Document: `data:image/png;base64,${photo(4000)}` }));
    const { joined, layout } = roundTrip(raw);
    expect(layout).toHaveLength(1);
    expect(joined.equals(raw)).toBe(true);
  });

  it('round-trips any JSON document, with or without bulky strings', () => {
    const bulky = fc.stringMatching(/^[A-Za-z0-9+/]{2048,2600}$/);
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(bulky, { maxLength: 3 }), (value, images) => {
        const raw = Buffer.from(JSON.stringify({ value, images }, null, images.length % 2 === 0 ? 0 : 2));
        expect(roundTrip(raw).joined.equals(raw)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('refuses parts that do not fit their places, rather than return other bytes', () => {
    const raw = Buffer.from(JSON.stringify({ Photo: photo(4000) }));
    const { skeleton, layout } = splitBody(raw, bulkySpans(raw));
    expect(() => joinBody(skeleton, layout, [Buffer.from('short')])).toThrow(/bytes, not/);
    expect(() => joinBody(skeleton, layout, [])).toThrow(/given 0/);
  });

  it('tells an envelope from a body stored whole', () => {
    expect(decodeEnvelope(Buffer.from('{"ResultCode":"1012"}'))).toBeUndefined();
    const empty = { skeleton: Buffer.from('x'), skeletonForm: 'deflated' as const, layout: [] };
    expect(decodeEnvelope(encodeEnvelope(empty))).toEqual(empty);
  });
});
