import type { WindowOptions } from '../shared/load-generator.js';

/** What bench:notify and its child processes (the webhook receiver, the baseline sender) share. */

export const RECEIVER_PATHS = {
  webhooks: '/webhooks',
  stats: '/__receiver/stats',
  arrivals: '/__receiver/arrivals',
  /** A second endpoint, not measured: it answers 204 at once, or, once told to hang, never answers. */
  other: '/other-webhooks',
  hang: '/__receiver/hang',
  /** Ends the hang: what is held is cut off, and the second endpoint answers again. */
  heal: '/__receiver/heal',
} as const;

/** The baseline's webhook-ids start with this; the service's never do (they start `msg_`). */
export const BASELINE_ID_PREFIX = 'baseline_';

/** What the orchestrator asks of the baseline sender (passed as JSON in argv[2]). */
export interface BaselineRequest extends WindowOptions {
  /** The receiver's secret, which the sender signs with as the service does. */
  secret: string;
  /** Bodies the service sent, taken from webhook_deliveries; sent in turn, each with a fresh id. */
  payloads: string[];
}
