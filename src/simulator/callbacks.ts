import { createHash, randomUUID } from 'node:crypto';
import { computeSignature } from '../smileid/signature.js';

/**
 * Realistic Smile ID Biometric KYC callbacks (docs/smile-id.md#callback-kinds), shaped like the examples in Smile ID's
 * documentation, with Smile ID's loose typing (numbers and booleans as strings). Used by the
 * simulator, `npm run simulate`, the benchmarks and the tests.
 */

export interface SimulatedJob {
  jobId: string;
  userId: string;
  smileJobId: string;
  country: string;
  idType: string;
  idNumber: string;
  fullName: string;
  dob: string;
  phoneNumber: string;
}

const FIRST_NAMES = ['Adaeze', 'Kwame', 'Amina', 'Tunde', 'Wanjiru', 'Sipho', 'Fatou', 'Chidi'];
const LAST_NAMES = ['Okafor', 'Mensah', 'Bello', 'Adeyemi', 'Kamau', 'Dlamini', 'Diallo', 'Eze'];

/** A job with identity data derived from its id, so tests can look for exactly these values. */
export function simulatedJob(overrides: Partial<SimulatedJob> = {}): SimulatedJob {
  const jobId = overrides.jobId ?? `job-${randomUUID()}`;
  const seed = createHash('sha256').update(jobId).digest();
  const pick = (list: string[], byte: number) => list[seed[byte]! % list.length]!;
  return {
    jobId,
    userId: `user-${seed.subarray(0, 6).toString('hex')}`,
    smileJobId: String(seed.readUInt32BE(6) % 10_000_000_000).padStart(10, '0'),
    country: 'NG',
    idType: 'NIN',
    idNumber: String(10_000_000_000 + (seed.readUInt32BE(10) % 89_999_999_999)).slice(0, 11),
    fullName: `${pick(FIRST_NAMES, 14)} ${pick(LAST_NAMES, 15)}`,
    dob: `19${70 + (seed[16]! % 30)}-0${1 + (seed[17]! % 9)}-1${seed[18]! % 10}`,
    phoneNumber: `+23480${String(seed.readUInt32BE(19)).slice(0, 8).padStart(8, '0')}`,
    ...overrides,
  };
}

function partnerParams(job: SimulatedJob) {
  return { job_id: job.jobId, user_id: job.userId, job_type: '1' };
}

const APPROVED_ACTIONS = {
  Human_Review_Compare: 'Not Applicable',
  Human_Review_Liveness_Check: 'Not Applicable',
  Liveness_Check: 'Passed',
  Register_Selfie: 'Approved',
  Return_Personal_Info: 'Returned',
  Selfie_Provided: 'Passed',
  Selfie_To_ID_Authority_Compare: 'Completed',
  Verify_ID_Number: 'Verified',
} as const;

export type ResultScenario =
  | 'approved'
  | 'provisional'
  | 'rejected'
  | 'pure_provisional'
  | 'pending_approval'
  | 'failed';

const SCENARIOS: Record<
  ResultScenario,
  { code: string; text: string; final: string; actions: Record<string, string> }
> = {
  approved: { code: '1210', text: 'Enroll User', final: 'true', actions: { ...APPROVED_ACTIONS } },
  provisional: {
    code: '0814',
    text: 'Provisional Enroll - Under Review',
    final: 'false',
    actions: {
      ...APPROVED_ACTIONS,
      Human_Review_Compare: 'Under Review',
      Selfie_To_ID_Authority_Compare: 'Under Review',
    },
  },
  rejected: {
    code: '0907',
    text: 'Failed Liveness Check - Possible Spoof',
    final: 'true',
    actions: { ...APPROVED_ACTIONS, Liveness_Check: 'Failed', Register_Selfie: 'Not Applicable' },
  },
  // Smile ID's docs describe a Pure Provisional (image comparison provisionally approved, the ID number
  // not verified) but no public example shows its code: this one is deliberately unknown to the service.
  pure_provisional: {
    code: '0899',
    text: 'Provisional Enroll - ID Number Not Verified',
    final: 'false',
    actions: {
      ...APPROVED_ACTIONS,
      Selfie_To_ID_Authority_Compare: 'Provisionally Approved',
      Verify_ID_Number: 'Not Verified',
      Return_Personal_Info: 'Not Returned',
    },
  },
  // Pending Approval: under a strict setting the user waits for review, and Smile ID may call it final.
  pending_approval: {
    code: '0814',
    text: 'Provisional Enroll - Under Review',
    final: 'true',
    actions: { ...APPROVED_ACTIONS, Human_Review_Compare: 'Under Review' },
  },
  failed: {
    code: '1015',
    text: 'Error - Queried Database Unavailable',
    final: 'true',
    actions: {
      ...APPROVED_ACTIONS,
      Verify_ID_Number: 'Issuer Unavailable',
      Return_Personal_Info: 'Not Returned',
      Selfie_To_ID_Authority_Compare: 'Not Applicable',
      Register_Selfie: 'Not Applicable',
    },
  },
};

/** The result ("Actions") callback. */
export function resultCallback(
  job: SimulatedJob,
  scenario: ResultScenario = 'approved',
): Record<string, unknown> {
  const { code, text, final, actions } = SCENARIOS[scenario];
  return {
    Actions: actions,
    ConfidenceValue: scenario === 'rejected' ? '0' : '99',
    IsFinalResult: final,
    IsMachineResult: scenario === 'provisional' ? 'false' : 'true',
    PartnerParams: partnerParams(job),
    ResultCode: code,
    ResultText: text,
    ResultType: 'SAIA',
    SmileJobID: job.smileJobId,
    Source: 'WebAPI',
  };
}

/** The ID authority's record, with a photo of about `photoBytes` bytes once base64-encoded. */
export function idInfoCallback(
  job: SimulatedJob,
  options: { photoBytes?: number; previousRegistrants?: string[] } = {},
): Record<string, unknown> {
  const previous = options.previousRegistrants ?? [];
  return {
    Actions: { Return_Personal_Info: 'Returned', Verify_ID_Number: 'Verified' },
    Country: job.country,
    DOB: job.dob,
    ExpirationDate: 'Not Available',
    FullData: {
      firstname: job.fullName.split(' ')[0],
      surname: job.fullName.split(' ')[1],
      birthdate: job.dob,
      nin: job.idNumber,
    },
    FullName: job.fullName,
    Gender: 'F',
    IDNumber: job.idNumber,
    IDNumberPreviouslyRegistered: previous.length > 0 ? 'true' : 'false',
    IDType: job.idType,
    PartnerParams: partnerParams(job),
    PhoneNumber: job.phoneNumber,
    Photo: fakeJpegBase64(options.photoBytes ?? 4096, job.jobId),
    ResultCode: '1012',
    ResultText: 'ID Number Validated',
    ResultType: 'ID Verification',
    SmileJobID: job.smileJobId,
    UserIDsOfPreviousRegistrants: previous,
  };
}

/** The Smile Secure fraud signal: 5211 with suspects, 5210 without. */
export function smileSecureCallback(job: SimulatedJob, suspects: { user_id: string; reason: string }[] = []) {
  return {
    Antifraud: { SuspectUsers: suspects },
    PartnerParams: partnerParams(job),
    ResultCode: suspects.length > 0 ? '5211' : '5210',
    ResultText: suspects.length > 0 ? 'Suspect users found' : 'No suspect users found',
    SmileJobID: job.smileJobId,
  };
}

/** Adds `timestamp` and `signature` as Smile ID does; the body itself is not covered by the signature. */
export function signCallback(
  body: Record<string, unknown>,
  {
    apiKey,
    partnerId,
    timestamp = new Date().toISOString(),
  }: { apiKey: string; partnerId: string; timestamp?: string },
): Record<string, unknown> {
  return { ...body, timestamp, signature: computeSignature(apiKey, partnerId, timestamp) };
}

/**
 * The opening members of a hand-built body (`"PartnerParams":{…},"timestamp":…,"signature":…,`) for a
 * job of its own, signed unless no credentials are given: hostile shapes are appended after them.
 */
export function openingMembers(signing?: { apiKey: string; partnerId: string; timestamp?: string }): string {
  const job = simulatedJob();
  const base = { PartnerParams: { job_id: job.jobId, user_id: job.userId, job_type: '1' } };
  const body = signing ? signCallback(base, signing) : base;
  return `${JSON.stringify(body).slice(1, -1)},`;
}

/** Base64 text of `length` characters that starts like a JPEG; the bytes are derived from `seed`. */
export function fakeJpegBase64(length: number, seed: string): string {
  const byteCount = Math.ceil((length * 3) / 4);
  const bytes = Buffer.alloc(byteCount);
  Buffer.from([0xff, 0xd8, 0xff, 0xe0]).copy(bytes);
  let block = createHash('sha256').update(seed).digest();
  for (let offset = 4; offset < byteCount; offset += block.length) {
    block.copy(bytes, offset);
    block = createHash('sha256').update(block).digest();
  }
  return bytes.toString('base64').slice(0, length);
}

/**
 * The single callback of a job whose ID number the ID authority could not find (1013): final and
 * rejected, with the submitted ID but no record from the authority, so no photo and no personal data.
 */
export function idNotFoundCallback(job: SimulatedJob): Record<string, unknown> {
  return {
    Actions: {
      Human_Review_Compare: 'Not Applicable',
      Human_Review_Liveness_Check: 'Not Applicable',
      Liveness_Check: 'Passed',
      Register_Selfie: 'Not Applicable',
      Return_Personal_Info: 'Not Returned',
      Selfie_Provided: 'Passed',
      Selfie_To_ID_Authority_Compare: 'Not Applicable',
      Verify_ID_Number: 'Not Verified',
    },
    ConfidenceValue: '0',
    Country: job.country,
    DOB: 'Not Available',
    FullName: 'Not Available',
    IDNumber: job.idNumber,
    IDType: job.idType,
    IsFinalResult: 'true',
    IsMachineResult: 'true',
    PartnerParams: partnerParams(job),
    Photo: 'Not Available',
    ResultCode: '1013',
    ResultText: 'Unable to Validate ID - ID Number Not Found',
    ResultType: 'ID Verification',
    SmileJobID: job.smileJobId,
    Source: 'WebAPI',
  };
}
