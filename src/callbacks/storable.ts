import type { ClassifiedBody } from '../smileid/classify.js';

/** As long as a job id the API serves may be; a longer one cannot name a job of ours. */
const MAX_ID_LENGTH = 200;
const INT32_MAX = 2_147_483_647;
/** U+0000 and unpaired surrogates (with `u`, a paired one is a single code point and does not match). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what must be found.
const UNSTORABLE_CHARACTERS = /[\u0000\ud800-\udfff]/gu;

/**
 * What Postgres can hold of a classification. Text and jsonb refuse U+0000 and unpaired surrogates, an
 * indexed id has a size limit and job_type is an integer column; left as they are, such values fail the
 * insert, which would answer 503 and invite endless retries of a body that can never be stored. The
 * exact bytes are kept in the event's body either way; an id that cannot be kept leaves the event an orphan.
 */
export function storable(classified: ClassifiedBody): ClassifiedBody {
  const id = (value: string | null) =>
    value === null || value.length > MAX_ID_LENGTH ? null : storableValue(value);
  const { jobId, userId, jobType } = classified;
  return {
    ...storableValue(classified),
    jobId: id(jobId),
    userId: id(userId),
    jobType: jobType !== null && Math.abs(jobType) <= INT32_MAX ? jobType : null,
  };
}

function storableValue<T>(value: T): T {
  if (typeof value === 'string') return value.replace(UNSTORABLE_CHARACTERS, '\ufffd') as T;
  if (Array.isArray(value)) return value.map(storableValue) as T;
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, child]) => [storableValue(key), storableValue(child)]),
  ) as T;
}
