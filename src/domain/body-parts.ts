/**
 * Stored bodies without their photos. A body is cut on its exact bytes, never parsed and serialised
 * again: the bulky strings (base64 images — the ID authority's `Photo`, document images — in callbacks
 * and job_status answers) are taken out as parts, and what stays (the skeleton) keeps an empty string
 * in their place. Joining the parts back into the skeleton gives the bytes received, so their SHA-256
 * still matches the stored digest. The parts go to the object store; the skeleton and where each part
 * goes back stay in the row (as an envelope, sealed like any body).
 */

/** A string shorter than this stays in the row: it costs less there than an object would. */
export const BULKY_STRING_MIN_CHARS = 2048;

/**
 * A body is cut into at most this many parts, each an object to write: a body of a thousand images costs
 * as many writes as one of eight. Every bulky string goes out all the same: the first ones are a part
 * each, the last part holds all the others, one after another.
 */
export const MAX_PARTS = 8;

/** The contents of one string of a body, between its quotes: [start, end) in bytes. */
export interface Span {
  start: number;
  end: number;
  /** Its bytes decoded, when they are strict base64 (which encodes back to exactly them). */
  decoded?: Buffer;
}

/** How a string is kept: its bytes as received, or decoded from strict base64 (a quarter smaller). */
export type PartForm = 'bytes' | 'base64';

/** Where a string of a part goes back into the skeleton, and what it looks like there. */
export interface Place {
  /** Byte offset in the skeleton, between the quotes of the emptied string. */
  at: number;
  /** Its length in the body as received. */
  length: number;
  form: PartForm;
  /**
   * The bytes it takes in its part. Absent in envelopes of version 1, whose every part holds one string
   * and that string the whole part.
   */
  size?: number;
}

/** The strings one part holds, in body order, one after another. */
export type PartLayout = readonly Place[];

export interface SplitBody {
  skeleton: Buffer;
  layout: PartLayout[];
  /** Each part as it is kept (strings decoded, for `base64`); layout[i] says where parts[i] goes back. */
  parts: Buffer[];
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;

/**
 * Base64's alphabets (standard and URL-safe) and padding, plus the backslash of `\/`, `\n` and `\r`, which
 * some encoders write.
 */
const BASE64_LIKE = new Uint8Array(256);
for (const char of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_\\') {
  BASE64_LIKE[char.charCodeAt(0)] = 1;
}
/** A data URL's header, its slash escaped (`\/`) or not, as a JSON encoder chose. */
const DATA_URL = /^data:[\w.+-]+\\?\/[\w.+-]+;base64,/;

/** Whether the quote at `index` is escaped: an odd run of backslashes before it. */
function escaped(raw: Uint8Array, index: number): boolean {
  let run = 0;
  while (index - run - 1 >= 0 && raw[index - run - 1] === BACKSLASH) run += 1;
  return run % 2 === 1;
}

/** Whether a colon follows `from` (past JSON whitespace): the string that ended there was a key. */
function followedByColon(raw: Uint8Array, from: number): boolean {
  let index = from;
  while (
    index < raw.length &&
    (raw[index] === 0x20 || raw[index] === 0x0a || raw[index] === 0x0d || raw[index] === 0x09)
  )
    index += 1;
  return raw[index] === COLON;
}

const EQUALS = 0x3d;
const MINUS = 0x2d;
const UNDERSCORE = 0x5f;

/**
 * The bytes of [start, end) when they are strict base64 (RFC 4648 §4: the standard alphabet, `=` padding
 * at the end only), else undefined. Node's decoder skips what it does not know, so a string with any other
 * byte decodes to fewer bytes than its length promises; it also takes the URL-safe `-` and `_`, looked
 * for apart (each one byte search). Only the last four characters can encode bits that no encoder writes:
 * they alone are encoded again. One decode of a megabyte photo, which its object needs anyway, instead of
 * a loop over its bytes in JavaScript and an encode of it all.
 */
function strictBase64(raw: Buffer, start: number, end: number): Buffer | undefined {
  const length = end - start;
  if (length % 4 !== 0) return undefined;
  const firstEquals = raw.indexOf(EQUALS, start);
  if (firstEquals >= 0 && firstEquals < end - 2) return undefined;
  const minus = raw.indexOf(MINUS, start);
  const underscore = raw.indexOf(UNDERSCORE, start);
  if ((minus >= 0 && minus < end) || (underscore >= 0 && underscore < end)) return undefined;
  const padding = raw[end - 1] === EQUALS ? (raw[end - 2] === EQUALS ? 2 : 1) : 0;
  const decoded = Buffer.from(raw.toString('latin1', start, end), 'base64');
  if (decoded.length !== (length / 4) * 3 - padding) return undefined;
  const last = raw.toString('latin1', end - 4, end);
  return Buffer.from(last, 'base64').toString('base64') === last ? decoded : undefined;
}

/** Base64-like but not strict: `\/` escapes, line breaks, a data URL's header. Kept as its bytes. */
function looksLikeBase64(raw: Buffer, { start, end }: Span): boolean {
  // A data URL's header ("data:image/jpeg;base64,") is short: look for it in the first bytes only.
  const head = DATA_URL.exec(raw.toString('latin1', start, Math.min(end, start + 128)));
  for (let index = start + (head?.[0].length ?? 0); index < end; index += 1) {
    if (BASE64_LIKE[raw[index]!] === 0) return false;
  }
  return true;
}

/**
 * The bulky strings of a JSON body (valid JSON: it was parsed before it is stored): string values of at
 * least `minChars` bytes that look like base64, all of them, in body order. One pass of the platform's
 * byte search from quote to quote, so a megabyte photo is one jump.
 */
export function bulkySpans(raw: Buffer, minChars = BULKY_STRING_MIN_CHARS): Span[] {
  const found: Span[] = [];
  let from = 0;
  for (;;) {
    const open = raw.indexOf(QUOTE, from);
    if (open < 0) break;
    let close = raw.indexOf(QUOTE, open + 1);
    while (close > 0 && escaped(raw, close)) close = raw.indexOf(QUOTE, close + 1);
    if (close < 0) break;
    if (close - open - 1 >= minChars && !followedByColon(raw, close + 1)) {
      const span = { start: open + 1, end: close };
      const decoded = strictBase64(raw, span.start, span.end);
      if (decoded) found.push({ ...span, decoded });
      else if (looksLikeBase64(raw, span)) found.push(span);
    }
    from = close + 1;
  }
  return found;
}

/**
 * Cuts `spans` (in body order, not overlapping) out of `raw`, into at most `MAX_PARTS` parts: one string
 * each, but the last part, which holds every string left.
 */
export function splitBody(raw: Buffer, spans: readonly Span[]): SplitBody {
  const pieces: Buffer[] = [];
  const places: Place[] = [];
  const kept: Buffer[] = [];
  let from = 0;
  let skeletonLength = 0;
  for (const span of spans) {
    pieces.push(raw.subarray(from, span.start));
    skeletonLength += span.start - from;
    const text = raw.subarray(span.start, span.end);
    const bytes = span.decoded ?? text;
    places.push({
      at: skeletonLength,
      length: text.length,
      form: span.decoded ? 'base64' : 'bytes',
      size: bytes.length,
    });
    kept.push(bytes);
    from = span.end;
  }
  pieces.push(raw.subarray(from));
  const single = Math.min(kept.length, MAX_PARTS - 1);
  const layout: PartLayout[] = places.slice(0, single).map((place) => [place]);
  const parts = kept.slice(0, single);
  if (kept.length > single) {
    layout.push(places.slice(single));
    parts.push(Buffer.concat(kept.slice(single)));
  }
  return { skeleton: Buffer.concat(pieces), layout, parts };
}

/** The strings of one part, each as it was received, with where it goes back. */
function stringsOf(part: Buffer, layout: PartLayout, index: number): Array<{ at: number; text: Buffer }> {
  let from = 0;
  const strings = layout.map((place) => {
    const size = place.size ?? part.length;
    if (from + size > part.length) throw new Error(`part ${index} has ${part.length} bytes, too few`);
    const bytes = part.subarray(from, from + size);
    from += size;
    const text = place.form === 'base64' ? Buffer.from(bytes.toString('base64'), 'latin1') : bytes;
    if (text.length !== place.length)
      throw new Error(`a string of part ${index} has ${text.length} bytes, not ${place.length}`);
    return { at: place.at, text };
  });
  if (from !== part.length) throw new Error(`part ${index} has ${part.length} bytes, not ${from}`);
  return strings;
}

/** The body as received: the skeleton with each part's strings back in place. */
export function joinBody(skeleton: Buffer, layout: readonly PartLayout[], parts: readonly Buffer[]): Buffer {
  if (parts.length !== layout.length)
    throw new Error(`a body of ${layout.length} parts was given ${parts.length}`);
  const pieces: Buffer[] = [];
  let from = 0;
  layout.forEach((places, index) => {
    for (const { at, text } of stringsOf(parts[index]!, places, index)) {
      if (at < from || at > skeleton.length) throw new Error(`part ${index} goes back out of order`);
      pieces.push(skeleton.subarray(from, at), text);
      from = at;
    }
  });
  pieces.push(skeleton.subarray(from));
  return Buffer.concat(pieces);
}

/**
 * The envelope a split body is stored as: a NUL (no JSON text starts with one, so a whole body is never
 * mistaken for an envelope), "SB", a version, how the skeleton is kept (as it is, or deflated: sealed
 * bytes no longer compress, so a skeleton is compressed before it is sealed, if at all), the part
 * count, then where each part's strings go back, then the skeleton. Version 1 (written before a part
 * could hold more than one string): each part's place, 9 bytes. Version 2: each part's string count,
 * then every string's place, 13 bytes, the size it takes in its part included.
 */
const MAGIC = Buffer.from([0x00, 0x53, 0x42]);
const VERSION_1 = 0x01;
const VERSION_2 = 0x02;
const FORMS: readonly PartForm[] = ['bytes', 'base64'];
const SKELETON_FORMS: readonly SkeletonForm[] = ['json', 'deflated'];
const HEAD_BYTES = MAGIC.length + 1 + 1 + 2;
const V1_PLACE_BYTES = 9;
const COUNT_BYTES = 4;
const PLACE_BYTES = 13;

/** How an envelope keeps its skeleton. */
export type SkeletonForm = 'json' | 'deflated';

export interface Envelope {
  /** As kept: deflated when `skeletonForm` says so. */
  skeleton: Buffer;
  skeletonForm: SkeletonForm;
  layout: PartLayout[];
}

export function encodeEnvelope({ skeleton, skeletonForm, layout }: Envelope): Buffer {
  const strings = layout.reduce((sum, places) => sum + places.length, 0);
  const header = Buffer.alloc(HEAD_BYTES + layout.length * COUNT_BYTES + strings * PLACE_BYTES);
  MAGIC.copy(header);
  header.writeUInt8(VERSION_2, MAGIC.length);
  header.writeUInt8(SKELETON_FORMS.indexOf(skeletonForm), MAGIC.length + 1);
  header.writeUInt16BE(layout.length, MAGIC.length + 2);
  let offset = HEAD_BYTES;
  for (const places of layout) offset = header.writeUInt32BE(places.length, offset);
  for (const place of layout.flat()) {
    if (place.size === undefined) throw new Error('a string of a part to store has no size');
    offset = header.writeUInt32BE(place.at, offset);
    offset = header.writeUInt32BE(place.length, offset);
    offset = header.writeUInt32BE(place.size, offset);
    offset = header.writeUInt8(FORMS.indexOf(place.form), offset);
  }
  return Buffer.concat([header, skeleton]);
}

function formAt(stored: Buffer, offset: number): PartForm {
  const form = FORMS[stored.readUInt8(offset)];
  if (form === undefined) throw new Error('a string of a stored body has an unknown form');
  return form;
}

/** Version 1: a part per place, the whole part its string. */
function decodeVersion1(stored: Buffer, count: number): { layout: PartLayout[]; end: number } {
  const layout: PartLayout[] = [];
  for (let index = 0; index < count; index += 1) {
    const offset = HEAD_BYTES + index * V1_PLACE_BYTES;
    const place = { at: stored.readUInt32BE(offset), length: stored.readUInt32BE(offset + 4) };
    layout.push([{ ...place, form: formAt(stored, offset + 8) }]);
  }
  return { layout, end: HEAD_BYTES + count * V1_PLACE_BYTES };
}

function decodeVersion2(stored: Buffer, count: number): { layout: PartLayout[]; end: number } {
  const layout: PartLayout[] = [];
  let offset = HEAD_BYTES + count * COUNT_BYTES;
  for (let index = 0; index < count; index += 1) {
    const places: Place[] = [];
    const strings = stored.readUInt32BE(HEAD_BYTES + index * COUNT_BYTES);
    for (let string = 0; string < strings; string += 1, offset += PLACE_BYTES) {
      places.push({
        at: stored.readUInt32BE(offset),
        length: stored.readUInt32BE(offset + 4),
        size: stored.readUInt32BE(offset + 8),
        form: formAt(stored, offset + 12),
      });
    }
    layout.push(places);
  }
  return { layout, end: offset };
}

/** The parts of an envelope; undefined for a body stored whole. */
export function decodeEnvelope(stored: Buffer): Envelope | undefined {
  if (stored.length < HEAD_BYTES || !stored.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const version = stored.readUInt8(MAGIC.length);
  if (version !== VERSION_1 && version !== VERSION_2)
    throw new Error(`a stored body is an envelope of unknown version ${version}`);
  const skeletonForm = SKELETON_FORMS[stored.readUInt8(MAGIC.length + 1)];
  if (skeletonForm === undefined) throw new Error('a stored body keeps its skeleton in an unknown form');
  const count = stored.readUInt16BE(MAGIC.length + 2);
  const { layout, end } = (version === VERSION_1 ? decodeVersion1 : decodeVersion2)(stored, count);
  return { skeleton: stored.subarray(end), skeletonForm, layout };
}
