import { randomUUID } from 'node:crypto';
import { TINY_JPEG, withComments } from '../../scripts/sized-jpegs.js';

/** A small real JPEG, unique per call: an 8×8 picture with `fill` in its comment segments. */
export function fakeJpeg(fill: string = randomUUID()): Buffer {
  return withComments(TINY_JPEG, Buffer.from(fill));
}

/** A POST /v1/submissions body: one selfie, two liveness images, an ID card front. */
export function submissionRequest(overrides: Record<string, unknown> = {}) {
  return {
    jobId: `job-${randomUUID()}`,
    userId: `user-${randomUUID()}`,
    jobType: 1,
    idInfo: {
      country: 'NG',
      idType: 'NIN',
      idNumber: '12345678901',
      firstName: 'Ada',
      lastName: 'Obi',
      dob: '1990-01-31',
    },
    images: [
      { type: 'selfie', jpegBase64: fakeJpeg().toString('base64') },
      { type: 'liveness', jpegBase64: fakeJpeg().toString('base64') },
      { type: 'liveness', jpegBase64: fakeJpeg().toString('base64') },
      { type: 'idCardFront', jpegBase64: fakeJpeg().toString('base64') },
    ],
    partnerParams: { channel: 'mobile' },
    ...overrides,
  };
}
