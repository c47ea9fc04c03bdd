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

  it('finds every bulky string, however many, in body order', () => {
    const raw = Buffer.from(
      JSON.stringify(Array.from({ length: 30 }, (_, index) => photo(3000, String(index)))),
    );
    const spans = bulkySpans(raw);
    expect(spans).toHaveLength(30);
    expect(spans.every((span, index) => index === 0 || span.start > spans[index - 1]!.end)).toBe(true);
  });
});

describe('a body of many images', () => {
  /** A job_status answer whose history holds `images` images, strict base64 and escaped data URLs. */
  const history = (images: number) =>
    Buffer.from(
      JSON.stringify({
        ResultCode: '1012',
        history: Array.from({ length: images }, (_, index) =>
          index % 2 === 0
            ? { Photo: photo(2100 + index * 37, `h${index}`) }
            : { Document: `data:image/jpeg;base64,${photo(2500, `d${index}`)}` },
        ),
      }).replaceAll('/', '\\/'),
    );

  it('is cut into at most MAX_PARTS parts, the last holding every string left, and none stays behind', () => {
    const raw = history(40);
    const { joined, skeleton, layout, parts } = roundTrip(raw);
    expect(bulkySpans(raw)).toHaveLength(40);
    expect(parts).toHaveLength(MAX_PARTS);
    expect(layout.map((places) => places.length)).toEqual([1, 1, 1, 1, 1, 1, 1, 40 - (MAX_PARTS - 1)]);
    expect(skeleton.toString()).not.toMatch(/[A-Za-z0-9+/]{64}/);
    expect(skeleton.length).toBeLessThan(2000);
    expect(joined.equals(raw)).toBe(true);
  });

  it('takes a part per string while there are no more than MAX_PARTS', () => {
    const { layout, parts } = roundTrip(history(MAX_PARTS));
    expect(parts).toHaveLength(MAX_PARTS);
    expect(layout.every((places) => places.length === 1)).toBe(true);
  });

  it('refuses a last part that is a byte short or long, rather than return other bytes', () => {
    const raw = history(12);
    const { skeleton, layout, parts } = splitBody(raw, bulkySpans(raw));
    const last = parts.at(-1)!;
    const shorter = [...parts.slice(0, -1), last.subarray(0, -1)];
    const longer = [...parts.slice(0, -1), Buffer.concat([last, Buffer.from('A')])];
    expect(() => joinBody(skeleton, layout, shorter)).toThrow(/bytes/);
    expect(() => joinBody(skeleton, layout, longer)).toThrow(/bytes, not/);
  });
});

describe('a body split and joined again', () => {
  it('gives back the exact bytes, and its digest, with the photo decoded to a quarter fewer bytes', () => {
    const raw = Buffer.from(`{ "Photo" : "${photo(1_400_000)}",\n "ResultCode": "1012" }`);
    const { joined, skeleton, parts, layout } = roundTrip(raw);
    expect(joined.equals(raw)).toBe(true);
    expect(skeleton.toString()).toBe('{ "Photo" : "",\n "ResultCode": "1012" }');
    expect(layout).toEqual([[{ at: 13, length: 1_400_000, form: 'base64', size: 1_050_000 }]]);
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
      expect(layout[0]?.[0]?.form).toBe('bytes');
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
      expect(layout.flat().map((place) => place.form)).toEqual(['bytes']);
      expect(joined.equals(raw)).toBe(true);
    }
  });

  it('takes a data URL image, its header and all, its slashes escaped or not', () => {
    const plain = JSON.stringify({ Document: `data:image/png;base64,${photo(4000)}` });
    for (const raw of [Buffer.from(plain), Buffer.from(plain.replaceAll('/', '\\/'))]) {
      const { joined, layout } = roundTrip(raw);
      expect(layout).toHaveLength(1);
      expect(joined.equals(raw)).toBe(true);
    }
  });

  it('round-trips any JSON document byte for byte, with none, a few or many bulky strings', () => {
    const bulky = fc.oneof(
      fc.stringMatching(/^[A-Za-z0-9+/]{2048,2600}$/),
      fc.stringMatching(/^[A-Za-z0-9+/]{2048,2600}={0,2}$/),
    );
    fc.assert(
      fc.property(fc.jsonValue(), fc.array(bulky, { maxLength: 12 }), (value, images) => {
        const raw = Buffer.from(JSON.stringify({ value, images }, null, images.length % 2 === 0 ? 0 : 2));
        expect(roundTrip(raw).joined.equals(raw)).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses parts that do not fit their places, rather than return other bytes', () => {
    const raw = Buffer.from(JSON.stringify({ Photo: photo(4000) }));
    const { skeleton, layout } = splitBody(raw, bulkySpans(raw));
    expect(() => joinBody(skeleton, layout, [Buffer.from('short')])).toThrow(/bytes/);
    expect(() => joinBody(skeleton, layout, [])).toThrow(/given 0/);
  });

  it('tells an envelope from a body stored whole', () => {
    expect(decodeEnvelope(Buffer.from('{"ResultCode":"1012"}'))).toBeUndefined();
    const empty = { skeleton: Buffer.from('x'), skeletonForm: 'deflated' as const, layout: [] };
    expect(decodeEnvelope(encodeEnvelope(empty))).toEqual(empty);
  });

  it('opens an envelope of version 1, written when every part held one string', () => {
    const image = photo(4000, 'v1');
    const raw = Buffer.from(`{"Photo":"${image}","Document":"${image.replaceAll('/', '\\/')}"}`);
    const skeleton = Buffer.from('{"Photo":"","Document":""}');
    const place = (at: number, length: number, form: number) => {
      const bytes = Buffer.alloc(9);
      bytes.writeUInt32BE(at, 0);
      bytes.writeUInt32BE(length, 4);
      bytes.writeUInt8(form, 8);
      return bytes;
    };
    const escapedLength = image.replaceAll('/', '\\/').length;
    const stored = Buffer.concat([
      Buffer.from([0x00, 0x53, 0x42, 0x01, 0x00, 0x00, 0x02]),
      place(10, image.length, 1),
      place(24, escapedLength, 0),
      skeleton,
    ]);
    const opened = decodeEnvelope(stored)!;
    expect(opened.skeletonForm).toBe('json');
    expect(opened.skeleton.equals(skeleton)).toBe(true);
    const parts = [Buffer.from(image, 'base64'), Buffer.from(image.replaceAll('/', '\\/'))];
    expect(joinBody(opened.skeleton, opened.layout, parts).equals(raw)).toBe(true);
  });

  it('refuses an envelope of a version it does not know, rather than read it as another', () => {
    const stored = encodeEnvelope({ skeleton: Buffer.from('{}'), skeletonForm: 'json', layout: [] });
    stored[3] = 0x09;
    expect(() => decodeEnvelope(stored)).toThrow(/unknown version 9/);
  });
});
