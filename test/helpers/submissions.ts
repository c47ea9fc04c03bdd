import { randomUUID } from 'node:crypto';

/** The smallest byte string every JPEG check accepts: SOI, an APP0 marker, EOI. Unique per call. */
export function fakeJpeg(fill: string = randomUUID()): Buffer {
  return Buffer.concat([
    Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]),
    Buffer.from(fill),
    Buffer.from([0xff, 0xd9]),
  ]);
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
