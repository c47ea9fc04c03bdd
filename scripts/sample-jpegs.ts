import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeJpeg } from './jpeg-encoder.js';

/**
 * `npx tsx scripts/sample-jpegs.ts`: draws the sample images that `npm run simulate -- --submit` sends
 * (src/cli/samples/): a selfie, two liveness frames and an ID card's front, of a drawn face, not a
 * photo of anyone. test/cli/sample-jpegs.test.ts fails when the committed files differ from these.
 */

export const SAMPLES_DIRECTORY = fileURLToPath(new URL('../src/cli/samples/', import.meta.url));

type Rgb = readonly [number, number, number];

interface Shape {
  contains: (x: number, y: number) => boolean;
  color: Rgb;
}

const ellipse = (cx: number, cy: number, rx: number, ry: number, color: Rgb): Shape => ({
  contains: (x, y) => ((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1,
  color,
});
const rect = (left: number, top: number, width: number, height: number, color: Rgb): Shape => ({
  contains: (x, y) => x >= left && x < left + width && y >= top && y < top + height,
  color,
});
const clipped = (shape: Shape, keep: (x: number, y: number) => boolean): Shape => ({
  contains: (x, y) => keep(x, y) && shape.contains(x, y),
  color: shape.color,
});

const clippedAll = (shapes: Shape[], keep: (x: number, y: number) => boolean) =>
  shapes.map((shape) => clipped(shape, keep));

const SKIN: Rgb = [176, 120, 84];
const SHADE: Rgb = [150, 98, 68];
const HAIR: Rgb = [40, 28, 22];

/**
 * A face 120×160 at the given offset and scale. `turn` moves the features sideways, as a head turned
 * for a liveness frame; `smile` opens the mouth.
 */
function face({ x0 = 0, y0 = 0, scale = 1, turn = 0, smile = false } = {}): Shape[] {
  const at = (x: number) => x0 + x * scale;
  const atY = (y: number) => y0 + y * scale;
  const e = (cx: number, cy: number, rx: number, ry: number, color: Rgb) =>
    ellipse(at(cx), atY(cy), rx * scale, ry * scale, color);
  return [
    e(60, 178, 60, 48, [52, 86, 120]),
    clipped(e(60, 118, 11, 30, SHADE), (_x, y) => y < atY(140)),
    e(31 + turn / 2, 76, 5, 9, SHADE),
    e(89 + turn / 2, 76, 5, 9, SHADE),
    e(60 + turn / 3, 72, 30, 38, SKIN),
    clipped(e(60 + turn / 3, 58, 33, 27, HAIR), (_x, y) => y < atY(54)),
    e(47 + turn, 64, 7, 1.8, HAIR),
    e(73 + turn, 64, 7, 1.8, HAIR),
    e(48 + turn, 71, 5.5, 3.2, [240, 236, 228]),
    e(72 + turn, 71, 5.5, 3.2, [240, 236, 228]),
    e(48 + turn * 1.3, 71, 2.4, 2.4, [34, 24, 18]),
    e(72 + turn * 1.3, 71, 2.4, 2.4, [34, 24, 18]),
    e(60 + turn * 1.2, 84, 3.5, 7, SHADE),
    e(60 + turn, 97, smile ? 11 : 9, smile ? 5 : 2.6, [150, 60, 60]),
  ];
}

/** The last shape holding each of 3×3 points inside the pixel, averaged: smooth edges, fewer bytes. */
function render(width: number, height: number, background: (x: number, y: number) => Rgb, shapes: Shape[]) {
  return encodeJpeg(
    {
      width,
      height,
      pixel: (x, y) => {
        const sum = [0, 0, 0];
        for (let i = 0; i < 9; i++) {
          const [sx, sy] = [x + ((i % 3) + 0.5) / 3, y + (Math.floor(i / 3) + 0.5) / 3];
          const color = shapes.findLast((shape) => shape.contains(sx, sy))?.color ?? background(sx, sy);
          for (let c = 0; c < 3; c++) sum[c]! += color[c]!;
        }
        return [sum[0]! / 9, sum[1]! / 9, sum[2]! / 9];
      },
    },
    85,
  );
}

const wall = (_x: number, y: number): Rgb => [200 - y / 6, 212 - y / 6, 226 - y / 8];

function idCardFront(): Buffer {
  const ink: Rgb = [80, 86, 84];
  const lines = [70, 96, 56, 84, 64].map((width, index) => rect(76, 34 + index * 13, width, 5, ink));
  return render(200, 128, () => [226, 236, 224], [
    rect(0, 0, 200, 22, [0, 110, 64]),
    rect(10, 8, 90, 6, [226, 236, 224]),
    rect(12, 30, 54, 76, [200, 212, 226]),
    ...clippedAll(face({ x0: 12, y0: 30, scale: 0.45 }), (x, y) => x >= 12 && x < 66 && y >= 30 && y < 106),
    ...lines,
    rect(160, 104, 10, 16, [0, 135, 81]),
    rect(170, 104, 10, 16, [250, 250, 250]),
    rect(180, 104, 10, 16, [0, 135, 81]),
  ]);
}

/** Each sample's file name under src/cli/samples/ and its bytes. */
export function sampleJpegs(): { name: string; jpeg: Buffer }[] {
  return [
    { name: 'selfie.jpg', jpeg: render(120, 160, wall, face()) },
    { name: 'liveness-1.jpg', jpeg: render(120, 160, wall, face({ turn: -6 })) },
    { name: 'liveness-2.jpg', jpeg: render(120, 160, wall, face({ turn: 5, smile: true })) },
    { name: 'id-card-front.jpg', jpeg: idCardFront() },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const { name, jpeg } of sampleJpegs()) {
    writeFileSync(`${SAMPLES_DIRECTORY}${name}`, jpeg);
    console.log(`src/cli/samples/${name}: ${jpeg.length} bytes`);
  }
}
