import { pino } from 'pino';
import { loadEntryPointConfig } from '../config.js';
import { createPolicyCheck, formatReport } from '../decide/policy-check.js';
import { loadPolicyFile, PolicyFileError } from '../decide/policy-file.js';
import { loggerOptions } from '../observability/logger.js';
import { createDatabase, postgresOutages } from '../store/connections.js';
import { createDecisionReplayStore } from '../store/jobs/decision-replay.js';

/**
 * `npm run policy:check -- FILE`: checks a decision policy file and replays it over the stored jobs of
 * DATABASE_URL (their outcomes; identity data is never read), printing how many decisions would change,
 * from what to what, and by which rule. Writes nothing. Exits 1 when the file is not a valid policy.
 */
const PAGE_SIZE = 1000;

const file = process.argv[2];
if (file === undefined || file.startsWith('-')) {
  process.stderr.write('usage: npm run policy:check -- FILE  (a YAML or JSON decision policy)\n');
  process.exit(1);
}

let candidate: ReturnType<typeof loadPolicyFile>;
try {
  candidate = loadPolicyFile(file);
} catch (error) {
  if (!(error instanceof PolicyFileError)) throw error;
  process.stderr.write(`${error.message}\n`);
  process.exit(1);
}

const config = loadEntryPointConfig();
// On stderr: stdout carries the report alone.
const logger = pino(loggerOptions(config.LOG_LEVEL), pino.destination(2));
const db = createDatabase({
  url: config.DATABASE_URL,
  poolSize: 1,
  timeoutMs: 60_000,
  outages: postgresOutages(config.DATABASE_URL, logger),
});
try {
  const check = createPolicyCheck(candidate);
  for await (const jobs of createDecisionReplayStore({ pool: db.pool }).all(PAGE_SIZE)) {
    for (const job of jobs) check.add(job);
  }
  process.stdout.write(formatReport(check.report(), candidate, file, config.DECISION_POLICY.version));
} catch (error) {
  const { name, code } = error as { name?: string; code?: string };
  process.stderr.write(`policy:check could not read the stored jobs: ${name ?? 'Error'} ${code ?? ''}\n`);
  process.exitCode = 2;
} finally {
  await db.close();
}
