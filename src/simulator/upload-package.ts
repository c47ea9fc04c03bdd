import JSZip from 'jszip';
import { z } from 'zod';
import { jpegProblem } from '../domain/jpeg.js';
import { isRecord } from '../util/is-record.js';

/**
 * What Smile ID accepts in an uploaded job package (docs/smile-id.md#submitting-a-job): a zip holding
 * `info.json` and the JPEG images it names, or the images inline as base64. Checked as strictly as the
 * documentation reads, so that a package the simulator accepts is one Smile ID would.
 */

/** `image_type_id`: even ids are the selfie and liveness images, odd ones the ID card's sides. */
export const IMAGE_TYPES = {
  selfieFile: 0,
  idCardFrontFile: 1,
  selfieBase64: 2,
  idCardFrontBase64: 3,
  livenessFile: 4,
  idCardBackFile: 5,
  livenessBase64: 6,
  idCardBackBase64: 7,
} as const;

const SELFIE_TYPES: ReadonlySet<number> = new Set([IMAGE_TYPES.selfieFile, IMAGE_TYPES.selfieBase64]);

const trueish = z.union([z.literal(true), z.literal('true')]);

const infoJsonSchema = z.object({
  package_information: z.record(z.string(), z.unknown()),
  misc_information: z.object({
    // Optional: the official Node SDK's info.json carries none (its signature goes in the prep upload).
    signature: z.string().min(1).optional(),
    timestamp: z.string().min(1),
    partner_params: z.object({
      job_id: z.string().min(1),
      user_id: z.string().min(1),
      job_type: z.union([z.number(), z.string()]),
    }),
    callback_url: z.string().min(1),
    smile_client_id: z.string().min(1).optional(),
    retry: z.union([z.boolean(), z.string()]).optional(),
  }),
  id_info: z.object({
    entered: trueish,
    country: z.string().min(1),
    id_type: z.string().min(1),
    id_number: z.string().min(1),
  }),
  images: z
    .array(
      z.object({
        image_type_id: z.coerce.number().int().min(0).max(7),
        image: z.string().optional(),
        file_name: z.string().optional(),
      }),
    )
    .min(1),
  server_information: z.record(z.string(), z.unknown()),
});

export interface UploadedPackage {
  jobId: string;
  userId: string;
  jobType: number;
  callbackUrl: string;
  smileJobId: unknown;
  imageTypes: number[];
  partnerParams: Record<string, unknown>;
}

export type PackageCheck = { ok: true; package: UploadedPackage } | { ok: false; reason: string };

/** Opens and checks an uploaded zip; never throws for what a client sent. */
export async function readUploadedPackage(zipBytes: Buffer): Promise<PackageCheck> {
  let zip: JSZip;
  try {
    zip = await JSZip.loadAsync(zipBytes);
  } catch {
    return { ok: false, reason: 'not a zip file' };
  }
  const infoFile = zip.file('info.json');
  if (!infoFile) return { ok: false, reason: 'info.json is missing' };
  let info: unknown;
  try {
    info = JSON.parse(await infoFile.async('string'));
  } catch {
    return { ok: false, reason: 'info.json is not JSON' };
  }
  const parsed = infoJsonSchema.safeParse(info);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return { ok: false, reason: `info.json: ${issue.path.join('.')}: ${issue.message}` };
  }
  const { misc_information: misc, images } = parsed.data;
  for (const [index, image] of images.entries()) {
    let bytes: Uint8Array;
    if (image.file_name) {
      const file = zip.file(image.file_name);
      if (!file) return { ok: false, reason: `images[${index}]: ${image.file_name} is not in the zip` };
      bytes = await file.async('uint8array');
    } else if (image.image) {
      bytes = Buffer.from(image.image, 'base64');
    } else {
      return { ok: false, reason: `images[${index}]: neither file_name nor image` };
    }
    const notJpeg = jpegProblem(bytes);
    if (notJpeg !== undefined) return { ok: false, reason: `images[${index}]: not a JPEG (${notJpeg})` };
  }
  if (!images.some((image) => SELFIE_TYPES.has(image.image_type_id))) {
    return { ok: false, reason: 'no selfie (image_type_id 0 or 2)' };
  }
  const partnerParams = isRecord(info) && isRecord(info.misc_information) ? info.misc_information : {};
  return {
    ok: true,
    package: {
      jobId: misc.partner_params.job_id,
      userId: misc.partner_params.user_id,
      jobType: Number(misc.partner_params.job_type),
      callbackUrl: misc.callback_url,
      smileJobId: parsed.data.server_information.smile_job_id,
      imageTypes: images.map((image) => image.image_type_id),
      partnerParams: isRecord(partnerParams.partner_params) ? partnerParams.partner_params : {},
    },
  };
}
