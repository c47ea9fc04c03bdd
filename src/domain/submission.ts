import { createHash } from 'node:crypto';
import { base64DecodedLength, decodeStrictBase64 } from './base64.js';
import { jpegProblem } from './jpeg.js';

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

export type ImageProblem = {
  code: 'IMAGE_COUNT' | 'IMAGE_NOT_BASE64' | 'IMAGE_NOT_JPEG' | 'IMAGE_TOO_LARGE';
  message: string;
};

/** An image as a request carries it. */
export interface EncodedImage {
  type: SubmissionImageType;
  jpegBase64: string;
}

/**
 * A request's images decoded, or the first problem with them. Cheapest checks first, so that no image
 * is decoded for a request refused anyway: the counts, then every image's size from its base64 length
 * alone, then each image decoded (strict base64) and its JPEG structure checked.
 */
export function decodeImages(
  images: readonly EncodedImage[],
  { maxImageBytes }: { maxImageBytes: number },
): { images: SubmissionImage[] } | { problem: ImageProblem } {
  for (const [type, { min, max }] of Object.entries(IMAGE_COUNTS)) {
    const count = images.filter((image) => image.type === type).length;
    if (count < min || count > max) {
      const wanted = min === max ? `exactly ${min}` : `at most ${max}`;
      return problem('IMAGE_COUNT', `a submission takes ${wanted} ${type} image(s); got ${count}`);
    }
  }
  for (const [index, image] of images.entries()) {
    const bytes = base64DecodedLength(image.jpegBase64);
    if (bytes > maxImageBytes) {
      return problem('IMAGE_TOO_LARGE', `images[${index}] is ${bytes} bytes; the limit is ${maxImageBytes}`);
    }
  }
  const decoded: SubmissionImage[] = [];
  for (const [index, image] of images.entries()) {
    const jpeg = decodeStrictBase64(image.jpegBase64);
    if (jpeg === undefined) {
      return problem('IMAGE_NOT_BASE64', `images.${index}.jpegBase64 must be base64 (no data: prefix)`);
    }
    const notJpeg = jpegProblem(jpeg);
    if (notJpeg !== undefined) return problem('IMAGE_NOT_JPEG', `images[${index}] is not a JPEG: ${notJpeg}`);
    decoded.push({ type: image.type, jpeg });
  }
  return { images: decoded };
}

const problem = (code: ImageProblem['code'], message: string) => ({ problem: { code, message } });

/** `result` of a job_status answer for a job whose zip never arrived: "No zip uploaded yet". */
const NO_ZIP = /no zip/i;

/**
 * Whether a signed job_status answer shows that Smile ID has the job's zip: the job is complete, has a
 * result, or `result` says something other than that no zip arrived. The one rule for every question
 * "does Smile ID have it?": after a 2215, before a resumed attempt sends the zip again, and when a
 * status check confirms a job whose submission is still marked as being uploaded.
 */
export function statusShowsZip(answer: { job_complete?: unknown; result?: unknown }): boolean {
  const { result } = answer;
  if (answer.job_complete === true || (typeof result === 'object' && result !== null)) return true;
  return typeof result === 'string' && result !== '' && !NO_ZIP.test(result);
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
