import type { SubmissionContent } from '../../domain/submission.js';
import { type FieldCipher, sealContext } from '../../security/field-cipher.js';

/** The content as sealed at rest; images as base64 inside the JSON. */
interface SealedContent extends Omit<SubmissionContent, 'images'> {
  images: { type: SubmissionContent['images'][number]['type']; jpegBase64: string }[];
}

/** A submission's content, sealed for its job id: the `payload` column. */
export function sealContent(cipher: FieldCipher, jobId: string, content: SubmissionContent): Buffer {
  const sealed: SealedContent = {
    ...content,
    images: content.images.map(({ type, jpeg }) => ({ type, jpegBase64: jpeg.toString('base64') })),
  };
  return cipher.sealJson(sealed, sealContext.submissionPayload(jobId));
}

export function openContent(cipher: FieldCipher, jobId: string, sealed: Buffer): SubmissionContent {
  const stored = cipher.openJson(sealed, sealContext.submissionPayload(jobId)) as SealedContent;
  return {
    ...stored,
    images: stored.images.map(({ type, jpegBase64 }) => ({
      type,
      jpeg: Buffer.from(jpegBase64, 'base64'),
    })),
  };
}
