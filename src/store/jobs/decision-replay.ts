import type pg from 'pg';
import type { JobDecision } from '../../domain/decision/job-decision.js';
import type { PolicyInUse } from '../../domain/decision/policy.js';
import { canonicalPolicy } from '../../domain/decision/version.js';
import { statement } from '../sql.js';
import { decodeJob, jobSelectList, type StoredJob } from './job-table.js';

/**
 * The reads and writes of a policy's replay over stored jobs: outcomes only, never identity data (the
 * ID record is selected as NULL and never opened), for the background replay of a new policy version and
 * for `npm run policy:check`.
 */

const WITHOUT_IDENTITY_DATA = jobSelectList(new Set(['idInfo']));

/**
 * Jobs the policy decided under another version, or that no policy has decided yet. The three ranges
 * read the partial index on the version, so that once every job is decided under `version` this costs two
 * empty index probes; no order, so that a batch costs what it returns, whatever is left.
 */
const UNDER_ANOTHER_VERSION = statement<'version' | 'limit'>(
  `
SELECT ${WITHOUT_IDENTITY_DATA} FROM jobs j
 WHERE j.decision_source = 'policy'
   AND (j.decision_policy_version < :version OR j.decision_policy_version > :version
        OR j.decision_policy_version IS NULL)
 LIMIT :limit::integer`,
  'decision-replay-due',
);

/** Every job in insertion order, a page at a time. */
const PAGE = statement<'afterSeq' | 'limit'>(
  `SELECT ${WITHOUT_IDENTITY_DATA}, j.seq::text AS "seq" FROM jobs j
    WHERE j.seq > :afterSeq::bigint ORDER BY j.seq LIMIT :limit::integer`,
  'decision-replay-page',
);

/**
 * The decisions of a batch, each a compare-and-swap on the version it was read at, and only while the
 * policy still owns it (a person's decision is never replaced by a replay). A job whose decision changed
 * is updated (`updated_at`), which puts the change in the feed; one decided alike only takes the version.
 */
const WRITE = statement<'rows' | 'at'>(`
WITH batch AS (
  SELECT * FROM jsonb_to_recordset(:rows::jsonb) AS b(
    "jobId" text, version integer, changed boolean, decision job_decision, reasons jsonb, details jsonb,
    rule text, "policyVersion" text, "decidedAt" timestamptz)
)
UPDATE jobs j SET decision = b.decision,
       decision_reasons = ARRAY(SELECT jsonb_array_elements_text(b.reasons)),
       decision_details = b.details, decision_rule = b.rule, decision_policy_version = b."policyVersion",
       decided_at = b."decidedAt", version = j.version + 1,
       updated_at = CASE WHEN b.changed THEN :at::timestamptz ELSE j.updated_at END
  FROM batch b
 WHERE j.job_id = b."jobId" AND j.version = b.version AND j.decision_source = 'policy'
RETURNING j.job_id AS "jobId"`);

/** A process started with this policy version at `startedAt`: recorded, the latest start kept. */
const ANNOUNCE = statement<'version' | 'name' | 'canonical' | 'startedAt'>(`
INSERT INTO decision_policies (version, name, canonical, first_started_at, last_started_at)
VALUES (:version, :name, :canonical::jsonb, :startedAt::timestamptz, :startedAt::timestamptz)
ON CONFLICT (version) DO UPDATE
   SET last_started_at = GREATEST(decision_policies.last_started_at, EXCLUDED.last_started_at)`);

const LATEST = statement(
  'SELECT version FROM decision_policies ORDER BY last_started_at DESC, version LIMIT 1',
  'decision-policy-latest',
);

/** A job's new decision, to write if the job is still as it was read. */
export interface ReplayedDecision {
  jobId: string;
  version: number;
  decision: JobDecision;
  /** The decision changed in a way a consumer acts on: the job is updated, and the change fed. */
  changed: boolean;
}

export function createDecisionReplayStore({ pool }: { pool: pg.Pool }) {
  return {
    /** Records that a process started with `policy` at `startedAt`. */
    async announce({ policy, version }: PolicyInUse, startedAt: Date): Promise<void> {
      const canonical = canonicalPolicy(policy);
      await pool.query(ANNOUNCE.bind({ version, name: policy.name, canonical, startedAt }));
    },

    /** The version a process started with last; null before any did. */
    async latestVersion(): Promise<string | null> {
      const { rows } = await pool.query<{ version: string }>(LATEST.bind({}));
      return rows[0]?.version ?? null;
    },

    /** Up to `limit` jobs the policy decided under another version than `version`, or none. */
    async underAnotherVersion(version: string, limit: number): Promise<StoredJob[]> {
      const { rows } = await pool.query<Record<string, unknown>>(
        UNDER_ANOTHER_VERSION.bind({ version, limit }),
      );
      return rows.map((row) => decodeJob(row));
    },

    /** Writes a batch of decisions; returns the jobs written (the others changed since they were read). */
    async write(decisions: readonly ReplayedDecision[], at: Date): Promise<string[]> {
      if (decisions.length === 0) return [];
      const rows = decisions.map(({ jobId, version, changed, decision }) => ({
        jobId,
        version,
        changed,
        decision: decision.value,
        reasons: decision.reasons,
        details: decision.details,
        rule: decision.rule,
        policyVersion: decision.policyVersion,
        decidedAt: decision.decidedAt.toISOString(),
      }));
      const written = await pool.query<{ jobId: string }>(WRITE.bind({ rows: JSON.stringify(rows), at }));
      return written.rows.map((row) => row.jobId);
    },

    /** Every stored job, in insertion order, `pageSize` at a time. */
    async *all(pageSize: number): AsyncGenerator<StoredJob[]> {
      let afterSeq = '0';
      for (;;) {
        const { rows } = await pool.query<Record<string, unknown>>(PAGE.bind({ afterSeq, limit: pageSize }));
        if (rows.length === 0) return;
        yield rows.map((row) => decodeJob(row));
        afterSeq = rows.at(-1)!.seq as string;
      }
    },
  };
}

export type DecisionReplayStore = ReturnType<typeof createDecisionReplayStore>;
