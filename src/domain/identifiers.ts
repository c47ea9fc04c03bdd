/**
 * One rule for the partner's job and user ids (PartnerParams `job_id` and `user_id`) wherever they
 * enter: the /v1 API refuses every id that callback intake could not attribute, so a job accepted there
 * is the job its callbacks name. A callback naming an id this rule refuses is stored as an orphan.
 *
 * Length is counted in Unicode code points, what JSON Schema's `maxLength` means and what the API has
 * always accepted; never in UTF-16 units, which count an emoji twice.
 */

/** The longest id, in code points: ample for any key, and a bounded index entry (≤ 800 bytes of UTF-8). */
export const MAX_ID_LENGTH = 200;

/** Smile ID's ways of saying a value is absent, compared trimmed and lower-cased: "N/A", blank… */
const ABSENT_MARKERS = new Set(['not available', 'n/a', '']);

/** Longer than any spelling of an absent marker: such strings (photos) are never copied to compare. */
const LONGEST_ABSENT_MARKER = 32;

/**
 * Whether Smile ID would mean "no value" by this text: empty, blank, "N/A" or "Not Available", in any
 * case and with any surrounding whitespace.
 */
export function isAbsentMarker(value: string): boolean {
  return value.length <= LONGEST_ABSENT_MARKER && ABSENT_MARKERS.has(value.trim().toLowerCase());
}

/** Why an id cannot name a job or user; each is a refusal at the API and an orphan at intake. */
export type IdProblem = 'absent' | 'too_long' | 'nul' | 'ill_formed';

/** The API's words for each problem, naming the rule and never the value. */
export const ID_PROBLEM_MESSAGES: Readonly<Record<IdProblem, string>> = {
  absent: 'must not be empty, blank, "N/A" or "Not Available": Smile ID sends those for no value',
  too_long: `must be at most ${MAX_ID_LENGTH} characters (Unicode code points)`,
  nul: 'must not contain NUL characters',
  ill_formed: 'must be well-formed Unicode (no unpaired surrogates)',
};

/** ES2024's String#isWellFormed, in Node since 20; a regex over a long string would cost far more. */
interface WellFormed {
  isWellFormed(): boolean;
}

export function idProblem(value: string): IdProblem | undefined {
  if (isAbsentMarker(value)) return 'absent';
  if (longerThan(value, MAX_ID_LENGTH)) return 'too_long';
  if (value.includes('\u0000')) return 'nul';
  if (!(value as string & WellFormed).isWellFormed()) return 'ill_formed';
  return undefined;
}

/** The id as intake attributes it: itself when the rule accepts it, else null (an orphan). */
export function attributableId(value: string | null | undefined): string | null {
  return typeof value === 'string' && idProblem(value) === undefined ? value : null;
}

/** Whether `value` has more than `max` code points, counting only when UTF-16 units leave it in doubt. */
function longerThan(value: string, max: number): boolean {
  if (value.length <= max) return false;
  if (value.length > 2 * max) return true;
  let codePoints = 0;
  for (let index = 0; index < value.length; index += 1) {
    const unit = value.charCodeAt(index);
    const next = value.charCodeAt(index + 1);
    // A high surrogate followed by a low one is one code point; a lone surrogate counts as one too.
    if (unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) index += 1;
    codePoints += 1;
  }
  return codePoints > max;
}
