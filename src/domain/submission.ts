import { createHash } from 'node:crypto';

/**
 * A Biometric KYC job submitted through this service: what a request must hold, and how one request is
 * told from another that reuses its job id. Pure: the API validates with it, the store digests with it.
 */

export type SubmissionImageType = 'selfie' | 'liveness' | 'idCardFront' | 'idCardBack';
export type SubmissionStatus = 'queued' | 'uploading' | 'uploaded' | 'failed';

/** How many images of each type one job may carry (docs/smile-id.md#submitting-a-job). */
export const IMAGE_COUNTS: Readonly<Record<SubmissionImageType, { min: number; max: number }>> = {
  selfie: { min: 1, max: 1 },
  liveness: { min: 0, max: 8 },
  idCardFront: { min: 0, max: 1 },
  idCardBack: { min: 0, max: 1 },
};

/** Partner params Smile ID sets from the job itself: a request may not name them. */
export const RESERVED_PARTNER_PARAMS: ReadonlySet<string> = new Set(['job_id', 'user_id', 'job_type']);

/** The ID details the user entered, which Smile ID checks against the ID authority. */
export interface EnteredIdInfo {
  country: string;
  idType: string;
  idNumber: string;
  firstName?: string | undefined;
  middleName?: string | undefined;
  lastName?: string | undefined;
  dob?: string | undefined;
  phoneNumber?: string | undefined;
}

export interface SubmissionImage {
  type: SubmissionImageType;
  jpeg: Buffer;
}

/** What is sent to Smile ID for one job; sealed at rest until the upload succeeds. */
export interface SubmissionContent {
  userId: string;
  jobType: 1;
  idInfo: EnteredIdInfo;
  images: SubmissionImage[];
  partnerParams: Record<string, string>;
}

export type ImageProblem = { code: 'IMAGE_COUNT' | 'IMAGE_NOT_JPEG' | 'IMAGE_TOO_LARGE'; message: string };

/** Every JPEG starts with SOI (FF D8) followed by a marker's FF. */
export function isJpeg(bytes: Uint8Array): boolean {
  return bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
}

/** The first problem with a request's images, or undefined when Smile ID would accept them. */
export function imageProblem(
  images: readonly SubmissionImage[],
  { maxImageBytes }: { maxImageBytes: number },
): ImageProblem | undefined {
  for (const [type, { min, max }] of Object.entries(IMAGE_COUNTS)) {
    const count = images.filter((image) => image.type === type).length;
    if (count < min || count > max) {
      const wanted = min === max ? `exactly ${min}` : `at most ${max}`;
      return { code: 'IMAGE_COUNT', message: `a submission takes ${wanted} ${type} image(s); got ${count}` };
    }
  }
  for (const [index, image] of images.entries()) {
    if (!isJpeg(image.jpeg)) {
      return { code: 'IMAGE_NOT_JPEG', message: `images[${index}] is not a JPEG` };
    }
    if (image.jpeg.length > maxImageBytes) {
      return {
        code: 'IMAGE_TOO_LARGE',
        message: `images[${index}] is ${image.jpeg.length} bytes; the limit is ${maxImageBytes}`,
      };
    }
  }
  return undefined;
}

/**
 * The parts a request's content digest is made of, in a fixed order: the same request sent again gives
 * the same parts whatever its key order, and images are represented by their SHA-256 so the digest's
 * input stays small.
 */
export function contentDigestParts(content: SubmissionContent): string[] {
  const sortedEntries = (record: object) =>
    Object.entries(record)
      .filter(([, value]) => value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return [
    content.userId,
    String(content.jobType),
    JSON.stringify(sortedEntries(content.idInfo)),
    JSON.stringify(sortedEntries(content.partnerParams)),
    ...content.images.map(({ type, jpeg }) => `${type}:${createHash('sha256').update(jpeg).digest('hex')}`),
  ];
}
