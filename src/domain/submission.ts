import { createHash } from 'node:crypto';
import { base64DecodedLength, decodeStrictBase64 } from './base64.js';
import { jpegProblem } from './jpeg.js';

/**
 * A Biometric KYC job submitted through this service: what a request must hold, and how one request is
 * told from another that reuses its job id. Pure: the API validates with it, the store digests with it.
 */

export type SubmissionImageType = 'selfie' | 'liveness' | 'idCardFront' | 'idCardBack';
export type SubmissionStatus = 'queued' | 'uploading' | 'uploaded' | 'failed';

interface CountRule {
  min: number;
  max: number;
}

/** How many images of each type one job may carry (docs/smile-id.md#submitting-a-job). */
export const IMAGE_COUNTS: Readonly<Record<SubmissionImageType, CountRule>> = {
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

/** What is wrong with a request's images: a code and the facts its message states (src/http/error-catalog.ts). */
export type ImageProblem =
  | { code: 'IMAGE_COUNT'; type: SubmissionImageType; min: number; max: number; count: number }
  | { code: 'IMAGE_TOO_LARGE'; index: number; bytes: number; limit: number }
  | { code: 'IMAGE_NOT_BASE64'; index: number }
  | { code: 'IMAGE_NOT_JPEG'; index: number; reason: string };

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
  for (const [type, { min, max }] of Object.entries(IMAGE_COUNTS) as [SubmissionImageType, CountRule][]) {
    const count = images.filter((image) => image.type === type).length;
    if (count < min || count > max) return { problem: { code: 'IMAGE_COUNT', type, min, max, count } };
  }
  for (const [index, image] of images.entries()) {
    const bytes = base64DecodedLength(image.jpegBase64);
    if (bytes > maxImageBytes) {
      return { problem: { code: 'IMAGE_TOO_LARGE', index, bytes, limit: maxImageBytes } };
    }
  }
  const decoded: SubmissionImage[] = [];
  for (const [index, image] of images.entries()) {
    const jpeg = decodeStrictBase64(image.jpegBase64);
    if (jpeg === undefined) return { problem: { code: 'IMAGE_NOT_BASE64', index } };
    const reason = jpegProblem(jpeg);
    if (reason !== undefined) return { problem: { code: 'IMAGE_NOT_JPEG', index, reason } };
    decoded.push({ type: image.type, jpeg });
  }
  return { images: decoded };
}

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
