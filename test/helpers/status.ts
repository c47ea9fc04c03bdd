import { pino } from 'pino';
import { loadPolicyFile } from '../../src/decide/policy-file.js';
import type { JobStatusClient } from '../../src/smileid/job-status-client.js';

/** The default decision policy, as a service started without DECISION_POLICY_FILE decides. */
export const DEFAULT_POLICY = loadPolicyFile();

/** For flows driven directly by a test, whose logs are not under test. */
export const silentLogger = pino({ level: 'silent' });

/** A job_status client for tests that hand the flow its answers: asking Smile ID is a test bug. */
export const unreachableSmileId: Pick<JobStatusClient, 'fetchStatus'> = {
  fetchStatus: async () => {
    throw new Error('this test hands job_status answers in; it never asks Smile ID');
  },
};
