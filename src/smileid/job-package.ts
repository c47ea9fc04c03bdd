import JSZip from 'jszip';
import type { EnteredIdInfo, SubmissionImageType } from '../domain/submission.js';

/**
 * The zip a Biometric KYC job is uploaded as (docs/smile-id.md#submitting-a-job): `info.json` and the
 * JPEG files it names. Built with jszip, the library Smile ID's own Node SDK packages jobs with.
 */

/** `image_type_id` of each image sent as a file in the zip. */
export const IMAGE_TYPE_IDS: Readonly<Record<SubmissionImageType, number>> = {
  selfie: 0,
  idCardFront: 1,
  liveness: 4,
  idCardBack: 5,
};

export interface JobPackage {
  partnerId: string;
  /** The request signature and its timestamp, as sent with the prep upload. */
  signature: string;
  timestamp: string;
  partnerParams: { job_id: string; user_id: string; job_type: number } & Record<string, string | number>;
  callbackUrl: string;
  /** True when this upload follows a prep upload sent again for the same job id. */
  retry: boolean;
  idInfo: EnteredIdInfo;
  images: readonly { type: SubmissionImageType; jpeg: Buffer }[];
  /** The prep upload's answer, returned to Smile ID as it came. */
  serverInformation: Record<string, unknown>;
}

/** File names in the zip: `selfie.jpg`, `liveness-1.jpg`, … in the order given. */
function fileNames(images: JobPackage['images']): string[] {
  const counts = new Map<SubmissionImageType, number>();
  return images.map(({ type }) => {
    const count = (counts.get(type) ?? 0) + 1;
    counts.set(type, count);
    return type === 'selfie' ? 'selfie.jpg' : `${type}-${count}.jpg`;
  });
}

export function infoJson(job: JobPackage) {
  const names = fileNames(job.images);
  const { idInfo } = job;
  return {
    package_information: {
      apiVersion: { buildNumber: 0, majorVersion: 2, minorVersion: 0 },
      language: 'typescript',
    },
    misc_information: {
      signature: job.signature,
      timestamp: job.timestamp,
      partner_params: job.partnerParams,
      callback_url: job.callbackUrl,
      retry: String(job.retry),
      file_name: 'selfie.zip',
      smile_client_id: job.partnerId,
    },
    id_info: {
      country: idInfo.country,
      id_type: idInfo.idType,
      id_number: idInfo.idNumber,
      ...(idInfo.firstName === undefined ? {} : { first_name: idInfo.firstName }),
      ...(idInfo.middleName === undefined ? {} : { middle_name: idInfo.middleName }),
      ...(idInfo.lastName === undefined ? {} : { last_name: idInfo.lastName }),
      ...(idInfo.dob === undefined ? {} : { dob: idInfo.dob }),
      ...(idInfo.phoneNumber === undefined ? {} : { phone_number: idInfo.phoneNumber }),
      // The ID details were entered by the user, so Smile ID verifies them against the authority.
      entered: true,
    },
    images: job.images.map(({ type }, index) => ({
      image_type_id: IMAGE_TYPE_IDS[type],
      image: '',
      file_name: names[index],
    })),
    server_information: job.serverInformation,
  };
}

/** The zip's bytes. */
export async function buildJobPackage(job: JobPackage): Promise<Buffer> {
  const zip = new JSZip();
  zip.file('info.json', JSON.stringify(infoJson(job)));
  const names = fileNames(job.images);
  for (const [index, { jpeg }] of job.images.entries()) zip.file(names[index]!, jpeg);
  // Stored, not deflated: JPEG does not compress, and the upload is what takes time.
  return zip.generateAsync({ type: 'nodebuffer', compression: 'STORE' });
}
