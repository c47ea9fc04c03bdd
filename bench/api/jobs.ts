/**
 * The API bench's jobs: `bench-job-0000001` … numbered from 1, each one's state and whether it has
 * identity data following from its number, so the seed (in SQL) and the load generator (in JS) agree
 * without passing 100,000 ids around.
 */

const DIGITS = 7;

export const benchJobId = (n: number) => `bench-job-${String(n).padStart(DIGITS, '0')}`;

/** The same id in SQL, for `n` a bigint column. */
export const BENCH_JOB_ID_SQL = (n: string) => `'bench-job-' || lpad(${n}::text, ${DIGITS}, '0')`;

/**
 * Out of every 100 jobs: 55 approved, 15 rejected, 10 failed (final), 10 provisional, 10 pending, as
 * (state, final, result code, text) by `n % 100` below each bound.
 */
export const STATE_BANDS = [
  { below: 55, state: 'approved', final: true, code: '1210', text: 'Enroll User' },
  { below: 70, state: 'rejected', final: true, code: '0911', text: 'No Face Found' },
  { below: 80, state: 'failed', final: true, code: '1013', text: 'ID Number Not Found' },
  { below: 90, state: 'provisional', final: false, code: '0814', text: 'Provisional Enroll - Under Review' },
  { below: 100, state: 'pending', final: false, code: null, text: null },
] as const;

/** Approved and rejected jobs carry the ID authority's record. */
export const hasIdInfo = (n: number) => n % 100 < 70;

/** Roughly five jobs per user. */
export const userCount = (jobs: number) => Math.max(1, Math.floor(jobs / 5));

/** A random job number in 1…jobs, only among those with identity data if asked. */
export function randomJob(jobs: number, withIdInfo: boolean): number {
  for (;;) {
    const n = 1 + Math.floor(Math.random() * jobs);
    if (!withIdInfo || hasIdInfo(n)) return n;
  }
}
