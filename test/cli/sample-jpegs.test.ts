import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SAMPLES_DIRECTORY, sampleJpegs } from '../../scripts/sample-jpegs.js';
import { SAMPLE_IMAGES, submissionRequest } from '../../src/cli/simulate-submit.js';
import { simulatedJob } from '../../src/simulator/callbacks.js';

const committed = (file: string) => readFileSync(`${SAMPLES_DIRECTORY}${file}`);

/** Width and height from a baseline JPEG's start-of-frame segment, walking the segments from SOI. */
function frameSize(jpeg: Buffer): { width: number; height: number } | undefined {
  for (let at = 2; at + 4 <= jpeg.length && jpeg[at] === 0xff; at += 2 + jpeg.readUInt16BE(at + 2)) {
    if (jpeg[at + 1] === 0xc0) return { height: jpeg.readUInt16BE(at + 5), width: jpeg.readUInt16BE(at + 7) };
  }
  return undefined;
}

describe('the sample JPEGs of npm run simulate -- --submit', () => {
  it.each(SAMPLE_IMAGES.map(({ file }) => file))('%s is a small baseline JPEG', (file) => {
    const jpeg = committed(file);
    expect([...jpeg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...jpeg.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect(jpeg.length).toBeGreaterThan(1024);
    expect(jpeg.length).toBeLessThan(16 * 1024);
    expect(frameSize(jpeg)).toEqual(
      file.startsWith('id-card') ? { width: 200, height: 128 } : { width: 120, height: 160 },
    );
  });

  it('are exactly what scripts/sample-jpegs.ts draws', () => {
    const drawn = sampleJpegs();
    expect(drawn.map(({ name }) => name).sort()).toEqual(SAMPLE_IMAGES.map(({ file }) => file).sort());
    for (const { name, jpeg } of drawn) {
      expect(jpeg.equals(committed(name)), `${name}: run npx tsx scripts/sample-jpegs.ts`).toBe(true);
    }
  });
});

describe('the submission npm run simulate -- --submit sends', () => {
  const job = simulatedJob({ jobId: 'job-samples-1' });

  it('carries one selfie, two liveness images and an ID card front, as the bundled files', () => {
    const { images } = submissionRequest(job);
    expect(images.map(({ type }) => type)).toEqual(['selfie', 'liveness', 'liveness', 'idCardFront']);
    for (const [index, { file }] of SAMPLE_IMAGES.entries()) {
      expect(Buffer.from(images[index]!.jpegBase64, 'base64').equals(committed(file))).toBe(true);
    }
  });

  it("names the simulated job's ids and the entered ID details, without the simulator's partner param", () => {
    const request = submissionRequest(job);
    const [firstName, lastName] = job.fullName.split(' ');
    expect(request).toMatchObject({
      jobId: 'job-samples-1',
      userId: job.userId,
      jobType: 1,
      idInfo: { country: 'NG', idType: 'NIN', idNumber: '00000000000', firstName, lastName, dob: job.dob },
    });
    expect(request).not.toHaveProperty('partnerParams');
  });

  it('asks the simulated upload for a scenario through the partner param sim_life', () => {
    expect(submissionRequest(job, 'rejected').partnerParams).toEqual({ sim_life: 'rejected' });
  });
});
