/** What bench:feed asks of its consumer process (JSON in argv[2]), and what that process reports. */

export interface ConsumersRequest {
  url: string;
  token: string;
  consumers: number;
  /** The feed's end when the consumers start: each follows the feed from there. */
  after: string;
  waitSeconds: number;
}

export interface ConsumersReport {
  /** Answers to GET /v1/changes, 200 or not. */
  polls: number;
  /** Changes each consumer was handed, and how many distinct jobs among them (one change a job here). */
  changes: number[];
  distinctJobs: number[];
  /** 429 CHANGE_FEED_BUSY answers, and anything else that was not a 200. */
  busy: number;
  errors: number;
  firstError: string | null;
}
