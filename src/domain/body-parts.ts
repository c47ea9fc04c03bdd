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

/** A body keeps at most this many parts (its largest strings); a body of a thousand strings keeps the rest. */
export const MAX_PARTS = 8;

/** The contents of one string of a body, between its quotes: [start, end) in bytes. */
export interface Span {
  start: number;
  end: number;
  /** Its bytes decoded, when they are strict base64 (which encodes back to exactly them). */
  decoded?: Buffer;
}

/** How a part is kept: its bytes as received, or decoded from strict base64 (a quarter smaller). */
export type PartForm = 'bytes' | 'base64';

/** Where a part goes back into the skeleton, and what it looks like there. */
export interface PartLayout {
  /** Byte offset in the skeleton, between the quotes of the emptied string. */
  at: number;
  /** Its length in the body as received. */
  length: number;
  form: PartForm;
}

export interface SplitBody {
  skeleton: Buffer;
  layout: PartLayout[];
  /** Each part as it is kept (decoded, for `base64`); layout[i] says where parts[i] goes back. */
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
const DATA_URL = /^data:[\w.+-]+\/[\w.+-]+;base64,/;

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
 * least `minChars` bytes that look like base64, the `MAX_PARTS` largest of them, in body order. One
 * pass of the platform's byte search from quote to quote, so a megabyte photo is one jump.
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
  if (found.length <= MAX_PARTS) return found;
  return found
    .sort((a, b) => b.end - b.start - (a.end - a.start))
    .slice(0, MAX_PARTS)
    .sort((a, b) => a.start - b.start);
}

/** Cuts `spans` (in body order, not overlapping) out of `raw`. */
export function splitBody(raw: Buffer, spans: readonly Span[]): SplitBody {
  const pieces: Buffer[] = [];
  const layout: PartLayout[] = [];
  const parts: Buffer[] = [];
  let from = 0;
  let skeletonLength = 0;
  for (const span of spans) {
    pieces.push(raw.subarray(from, span.start));
    skeletonLength += span.start - from;
    const text = raw.subarray(span.start, span.end);
    layout.push({ at: skeletonLength, length: text.length, form: span.decoded ? 'base64' : 'bytes' });
    parts.push(span.decoded ?? text);
    from = span.end;
  }
  pieces.push(raw.subarray(from));
  return { skeleton: Buffer.concat(pieces), layout, parts };
}

/** The body as received: the skeleton with each part back in place. */
export function joinBody(skeleton: Buffer, layout: readonly PartLayout[], parts: readonly Buffer[]): Buffer {
  if (parts.length !== layout.length)
    throw new Error(`a body of ${layout.length} parts was given ${parts.length}`);
  const pieces: Buffer[] = [];
  let from = 0;
  layout.forEach((place, index) => {
    pieces.push(skeleton.subarray(from, place.at));
    const part =
      place.form === 'base64' ? Buffer.from(parts[index]!.toString('base64'), 'latin1') : parts[index]!;
    if (part.length !== place.length)
      throw new Error(`part ${index} has ${part.length} bytes, not ${place.length}`);
    pieces.push(part);
    from = place.at;
  });
  pieces.push(skeleton.subarray(from));
  return Buffer.concat(pieces);
}

/**
 * The envelope a split body is stored as: a NUL (no JSON text starts with one, so a whole body is never
 * mistaken for an envelope), "SB", a version, how the skeleton is kept (as it is, or deflated: sealed
 * bytes no longer compress, so a skeleton is compressed before it is sealed, if at all), the part
 * count, each part's place, then the skeleton.
 */
const MAGIC = Buffer.from([0x00, 0x53, 0x42, 0x01]);
const FORMS: readonly PartForm[] = ['bytes', 'base64'];
const SKELETON_FORMS: readonly SkeletonForm[] = ['json', 'deflated'];
const HEAD_BYTES = MAGIC.length + 1 + 2;
const PLACE_BYTES = 9;

/** How an envelope keeps its skeleton. */
export type SkeletonForm = 'json' | 'deflated';

export interface Envelope {
  /** As kept: deflated when `skeletonForm` says so. */
  skeleton: Buffer;
  skeletonForm: SkeletonForm;
  layout: PartLayout[];
}

export function encodeEnvelope({ skeleton, skeletonForm, layout }: Envelope): Buffer {
  const header = Buffer.alloc(HEAD_BYTES + layout.length * PLACE_BYTES);
  MAGIC.copy(header);
  header.writeUInt8(SKELETON_FORMS.indexOf(skeletonForm), MAGIC.length);
  header.writeUInt16BE(layout.length, MAGIC.length + 1);
  layout.forEach((place, index) => {
    const offset = HEAD_BYTES + index * PLACE_BYTES;
    header.writeUInt32BE(place.at, offset);
    header.writeUInt32BE(place.length, offset + 4);
    header.writeUInt8(FORMS.indexOf(place.form), offset + 8);
  });
  return Buffer.concat([header, skeleton]);
}

/** The parts of an envelope; undefined for a body stored whole. */
export function decodeEnvelope(stored: Buffer): Envelope | undefined {
  if (stored.length < HEAD_BYTES || !stored.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  const skeletonForm = SKELETON_FORMS[stored.readUInt8(MAGIC.length)];
  if (skeletonForm === undefined) throw new Error('a stored body keeps its skeleton in an unknown form');
  const count = stored.readUInt16BE(MAGIC.length + 1);
  const layout: PartLayout[] = [];
  for (let index = 0; index < count; index += 1) {
    const offset = HEAD_BYTES + index * PLACE_BYTES;
    const form = FORMS[stored.readUInt8(offset + 8)];
    if (form === undefined) throw new Error(`part ${index} of a stored body has an unknown form`);
    layout.push({ at: stored.readUInt32BE(offset), length: stored.readUInt32BE(offset + 4), form });
  }
  return { skeleton: stored.subarray(HEAD_BYTES + count * PLACE_BYTES), skeletonForm, layout };
}
