import { attributableId } from '../domain/identifiers.js';
import type { ClassifiedBody } from '../smileid/classify.js';

const INT32_MAX = 2_147_483_647;

/** ES2024 string methods, in Node since 20; a regex over megabytes of lone surrogates took ~70 ms. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * What Postgres can hold of a classification. Text and jsonb refuse U+0000 and unpaired surrogates, an
 * indexed id has a size limit and job_type is an integer column; left as they are, such values fail the
 * insert, which would answer 503 and invite endless retries of a body that can never be stored. The
 * exact bytes are kept in the event's body either way. Job and user ids follow the rule the API applies
 * to them (domain/identifiers.ts): an id it would refuse names no job of ours, and leaves the event an
 * orphan, rather than being attributed to some other id after repair.
 */
export function storable(classified: ClassifiedBody): ClassifiedBody {
  const { jobId, userId, jobType } = classified;
  return {
    ...storableValue(classified),
    jobId: attributableId(jobId),
    userId: attributableId(userId),
    jobType: jobType !== null && Math.abs(jobType) <= INT32_MAX ? jobType : null,
  };
}

/** U+0000 and unpaired surrogates become U+FFFD; an already storable string is returned as it is. */
function storableString(value: string): string {
  const text = value as string & WellFormedString;
  const wellFormed = text.isWellFormed() ? value : text.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\ufffd') : wellFormed;
}

/**
 * Copies only what changes: a FullData of thousands of fields is almost always storable as it is, and
 * rebuilding it would cost as much again as parsing it.
 */
function storableValue<T>(value: T): T {
  if (typeof value === 'string') return storableString(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let index = 0; index < value.length; index += 1) {
      const item: unknown = value[index];
      const kept = storableValue(item);
      if (kept !== item) {
        copy ??= [...value];
        copy[index] = kept;
      }
    }
    return (copy ?? value) as T;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  let entries: Array<[string, unknown]> | undefined;
  for (let index = 0; index < keys.length; index += 1) {
    const key = keys[index]!;
    const child = record[key];
    const keptKey = storableString(key);
    const keptChild = storableValue(child);
    if (!entries && (keptKey !== key || keptChild !== child)) {
      entries = keys.slice(0, index).map((earlier): [string, unknown] => [earlier, record[earlier]]);
    }
    entries?.push([keptKey, keptChild]);
  }
  // fromEntries defines own properties, so even a `__proto__` key stays data, never a prototype.
  return (entries ? Object.fromEntries(entries) : value) as T;
}
