import {
  AC_CHROMA,
  AC_LUMA,
  CHROMA_QUANT,
  DC_CHROMA,
  DC_LUMA,
  type HuffmanSpec,
  LUMA_QUANT,
  ZIGZAG,
} from './jpeg-tables.js';

/**
 * A baseline JPEG encoder: JFIF, YCbCr without chroma subsampling, the standard's example tables. Small
 * and slow, and enough to draw the sample images of `npm run simulate -- --submit` without an image
 * library. Deterministic: the same picture and quality always give the same bytes.
 */

export interface Picture {
  width: number;
  height: number;
  /** The colour at a pixel, as [red, green, blue] from 0 to 255. */
  pixel: (x: number, y: number) => readonly [number, number, number];
}

/** The standard's tables scaled to a quality from 1 to 100, as libjpeg does. */
function scaledQuant(table: readonly number[], quality: number): number[] {
  const scale = quality < 50 ? 5000 / quality : 200 - quality * 2;
  return table.map((value) => Math.min(255, Math.max(1, Math.floor((value * scale + 50) / 100))));
}

/** Canonical Huffman codes: symbol → [code, length]. */
function huffmanCodes({ counts, symbols }: HuffmanSpec): Map<number, [number, number]> {
  const codes = new Map<number, [number, number]>();
  let code = 0;
  let next = 0;
  for (const [index, count] of counts.entries()) {
    for (let i = 0; i < count; i++) codes.set(symbols[next++]!, [code++, index + 1]);
    code <<= 1;
  }
  return codes;
}

class BitWriter {
  readonly bytes: number[] = [];
  private buffer = 0;
  private used = 0;

  write(value: number, length: number) {
    for (let bit = length - 1; bit >= 0; bit--) {
      this.buffer = (this.buffer << 1) | ((value >> bit) & 1);
      if (++this.used === 8) this.flushByte();
    }
  }

  /** Pads the last byte with ones, as the standard asks. */
  finish() {
    while (this.used !== 0) this.write(1, 1);
  }

  private flushByte() {
    this.bytes.push(this.buffer);
    // A 0xFF in entropy-coded data is stuffed with a zero byte, so it never reads as a marker.
    if (this.buffer === 0xff) this.bytes.push(0);
    this.buffer = 0;
    this.used = 0;
  }
}

const COSINES = Array.from({ length: 64 }, (_, index) => {
  const [x, u] = [index >> 3, index & 7];
  return Math.cos(((2 * x + 1) * u * Math.PI) / 16);
});

/** The 8×8 forward DCT of level-shifted samples, quantized, in natural order. */
function quantizedDct(samples: readonly number[], quant: readonly number[]): number[] {
  const out = new Array<number>(64);
  for (let v = 0; v < 8; v++) {
    for (let u = 0; u < 8; u++) {
      let sum = 0;
      for (let y = 0; y < 8; y++) {
        for (let x = 0; x < 8; x++) sum += samples[y * 8 + x]! * COSINES[x * 8 + u]! * COSINES[y * 8 + v]!;
      }
      const cu = u === 0 ? Math.SQRT1_2 : 1;
      const cv = v === 0 ? Math.SQRT1_2 : 1;
      out[v * 8 + u] = Math.round((0.25 * cu * cv * sum) / quant[v * 8 + u]!);
    }
  }
  return out;
}

const bitLength = (value: number) => (value === 0 ? 0 : Math.floor(Math.log2(Math.abs(value))) + 1);
/** A coefficient's extra bits: negative values are sent as their ones' complement. */
const extraBits = (value: number, length: number) => (value < 0 ? value + (1 << length) - 1 : value);

interface Channel {
  quant: number[];
  dc: Map<number, [number, number]>;
  ac: Map<number, [number, number]>;
  previousDc: number;
}

function encodeBlock(bits: BitWriter, channel: Channel, coefficients: readonly number[]) {
  const emit = (codes: Map<number, [number, number]>, symbol: number) => {
    const [code, length] = codes.get(symbol)!;
    bits.write(code, length);
  };
  const dc = coefficients[0]!;
  const difference = dc - channel.previousDc;
  channel.previousDc = dc;
  const dcLength = bitLength(difference);
  emit(channel.dc, dcLength);
  bits.write(extraBits(difference, dcLength), dcLength);
  let zeros = 0;
  for (let k = 1; k < 64; k++) {
    const value = coefficients[ZIGZAG[k]!]!;
    if (value === 0) {
      zeros++;
      continue;
    }
    for (; zeros >= 16; zeros -= 16) emit(channel.ac, 0xf0);
    const length = bitLength(value);
    emit(channel.ac, (zeros << 4) | length);
    bits.write(extraBits(value, length), length);
    zeros = 0;
  }
  if (zeros > 0) emit(channel.ac, 0x00);
}

const u16 = (value: number) => [value >> 8, value & 0xff];
const segment = (marker: number, body: number[]) => [0xff, marker, ...u16(body.length + 2), ...body];
const huffmanTable = (tableClass: number, id: number, { counts, symbols }: HuffmanSpec) => [
  (tableClass << 4) | id,
  ...counts,
  ...symbols,
];

/** Encodes a picture as a baseline JPEG at a quality from 1 to 100. */
export function encodeJpeg(picture: Picture, quality = 85): Buffer {
  const { width, height } = picture;
  const lumaQuant = scaledQuant(LUMA_QUANT, quality);
  const chromaQuant = scaledQuant(CHROMA_QUANT, quality);
  const channel = (quant: number[], dc: HuffmanSpec, ac: HuffmanSpec): Channel => ({
    quant,
    dc: huffmanCodes(dc),
    ac: huffmanCodes(ac),
    previousDc: 0,
  });
  const channels = [
    channel(lumaQuant, DC_LUMA, AC_LUMA),
    channel(chromaQuant, DC_CHROMA, AC_CHROMA),
    channel(chromaQuant, DC_CHROMA, AC_CHROMA),
  ];
  const bits = new BitWriter();
  for (let top = 0; top < height; top += 8) {
    for (let left = 0; left < width; left += 8) {
      const blocks = [[], [], []] as number[][];
      for (let index = 0; index < 64; index++) {
        // Edge blocks repeat the last row and column.
        const x = Math.min(left + (index & 7), width - 1);
        const y = Math.min(top + (index >> 3), height - 1);
        const [r, g, b] = picture.pixel(x, y);
        blocks[0]!.push(0.299 * r + 0.587 * g + 0.114 * b - 128);
        blocks[1]!.push(-0.168736 * r - 0.331264 * g + 0.5 * b);
        blocks[2]!.push(0.5 * r - 0.418688 * g - 0.081312 * b);
      }
      for (const [index, samples] of blocks.entries()) {
        const target = channels[index]!;
        encodeBlock(bits, target, quantizedDct(samples, target.quant));
      }
    }
  }
  bits.finish();

  const toZigzag = (table: number[]) => ZIGZAG.map((natural) => table[natural]!);
  return Buffer.from([
    0xff,
    0xd8,
    ...segment(0xe0, [0x4a, 0x46, 0x49, 0x46, 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xdb, [0, ...toZigzag(lumaQuant), 1, ...toZigzag(chromaQuant)]),
    ...segment(0xc0, [8, ...u16(height), ...u16(width), 3, 1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]),
    ...segment(0xc4, [
      ...huffmanTable(0, 0, DC_LUMA),
      ...huffmanTable(1, 0, AC_LUMA),
      ...huffmanTable(0, 1, DC_CHROMA),
      ...huffmanTable(1, 1, AC_CHROMA),
    ]),
    ...segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]),
    ...bits.bytes,
    0xff,
    0xd9,
  ]);
}
