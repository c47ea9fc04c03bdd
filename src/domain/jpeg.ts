/**
 * Whether bytes are a JPEG by their structure, not by their first three bytes: a start-of-image marker,
 * marker segments that each fit the file up to a frame header with nonzero dimensions, then the start
 * of a scan, and an end-of-image marker as the last bytes. Three bytes `FF D8 FF` followed by an HTML
 * page or a zip pass a magic-number check; they fail this one. One pass over the segment headers (the
 * entropy-coded data is not read), so it is linear in the number of segments, never in their content.
 *
 * After the end-of-image marker only zero bytes are allowed: camera hardware encoders pad their output
 * with them (Raspberry Pi stills to a 4-byte boundary, OV2640/OV5640 sensors by thousands), and every
 * decoder stops at the marker. Anything else after it (an appended zip, a vendor's trailer) is refused:
 * what Smile ID receives is a JPEG and nothing else.
 */

const MARKER = 0xff;
const SOI = 0xd8;
const EOI = 0xd9;
const SOS = 0xda;
/** Markers with no length after them: TEM and the restart markers RST0–RST7. */
const STANDALONE = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7);
/** Frame headers SOF0–SOF15; C4 (DHT), C8 (JPG) and CC (DAC) share the range but are not frames. */
const FRAME = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** A frame header's length: length, precision, height, width, component count, then 3 bytes a component. */
const frameLength = (components: number) => 2 + 1 + 2 + 2 + 1 + 3 * components;
/** A scan header's length: length, component count, 2 bytes a component, spectral selection, approximation. */
const scanLength = (components: number) => 2 + 1 + 2 * components + 3;
/** A header of `length` holds at least one component and all it counts (a count read past a short header is never used). */
const holds = (length: number, size: (components: number) => number, count: number) =>
  length >= size(1) && count > 0 && length >= size(count);

/** Why the bytes are not a JPEG, in words that never repeat them; undefined when they are one. */
export function jpegProblem(bytes: Uint8Array): string | undefined {
  if (bytes.length < 4 || bytes[0] !== MARKER || bytes[1] !== SOI) return 'no start-of-image marker';
  let end = bytes.length;
  while (end > 2 && bytes[end - 1] === 0) end -= 1;
  if (bytes[end - 2] !== MARKER || bytes[end - 1] !== EOI) {
    return 'no end-of-image marker at the end (only zero padding may follow it)';
  }
  // Segments must end before the end-of-image marker.
  const limit = end - 2;
  const u16 = (at: number) => (bytes[at]! << 8) | bytes[at + 1]!;
  let framed = false;
  let at = 2;
  while (at < limit) {
    if (bytes[at] !== MARKER) return 'a marker segment is followed by something that is not a marker';
    // Any number of FF fill bytes may precede a marker.
    while (at + 1 < limit && bytes[at + 1] === MARKER) at += 1;
    const marker = bytes[at + 1];
    at += 2;
    if (marker === undefined || at > limit) return 'the markers run past the end';
    if (STANDALONE(marker)) continue;
    if (marker === 0x00 || marker === SOI || marker === EOI) return 'a marker out of place before the scan';
    if (at + 2 > limit) return 'a marker segment runs past the end';
    const length = u16(at);
    if (length < 2 || at + length > limit) return 'a marker segment runs past the end';
    if (FRAME(marker)) {
      if (framed) return 'more than one frame header';
      if (!holds(length, frameLength, bytes[at + 7]!)) return 'a frame header too short for its components';
      if (u16(at + 3) === 0 || u16(at + 5) === 0) return 'a frame header without width or height';
      framed = true;
    } else if (marker === SOS) {
      if (!framed) return 'a scan before any frame header';
      if (!holds(length, scanLength, bytes[at + 2]!)) return 'a scan header too short for its components';
      return at + length < limit ? undefined : 'a scan with no data';
    }
    at += length;
  }
  return framed ? 'no scan after the frame header' : 'no frame header with the dimensions';
}
