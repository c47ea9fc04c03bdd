import type { BearerTokens } from './api/bearer-auth.js';
import type { IntakeOptions } from './callbacks/intake.js';
import type { Config } from './config.js';
import type { PolicyInUse } from './domain/decision/policy.js';
import type { PollModel } from './domain/poll-schedule.js';
import type { MaintenanceSettings } from './maintenance/jobs.js';
import type { RetentionSettings } from './maintenance/retention.js';
import type { NotifySettings } from './notify/jobs.js';
import type { JobSettings } from './queues/catalog.js';
import type { ReconcileSettings } from './reconcile/jobs.js';
import { type Keyring, parseKeyring } from './security/field-cipher.js';
import type { SmileApiOptions } from './smileid/smile-api.js';
import { type ObjectStorageSettings, objectStorageSettingsOf } from './store/objects/object-storage.js';
import type { SubmitSettings } from './submit/submit-job.js';

/** Smile ID may redeliver a genuine callback late: give its own confirmation a moment to come first. */
const UNTRUSTED_CHECK_DELAY_MS = 2000;

/** A zip of several megabytes takes longer than a job_status answer. */
const UPLOAD_TIMEOUT_FLOOR_MS = 60_000;

const HOUR_MS = 3_600_000;

/** Where and how Smile ID is called; each client adds its place in the call budget. */
export type SmileApiSettings = Pick<SmileApiOptions, 'baseUrl' | 'partnerId' | 'apiKeys' | 'timeoutMs'>;

/**
 * The configuration as the services take it, one section per concern: durations in milliseconds, the
 * key ring parsed, the poll model, webhook secrets by URL. The composition root builds it once and
 * passes each section whole; Config itself stays the environment's names, as documented.
 */
export interface Settings {
  database: { url: string; poolSize: number; timeoutMs: number };
  redis: { url: string; prefix: string };
  keyring: Keyring;
  /** DATA_ENCRYPTION_KEYS as given: cursors derive their own keys from them. */
  dataEncryptionKeys: readonly string[];
  smileApi: { status: SmileApiSettings; uploads: SmileApiSettings; callsPerSecond: number };
  callbacks: IntakeOptions;
  api: ApiSettings;
  pollModel: PollModel;
  jobs: JobSettings;
  reconciliation: ReconcileSettings;
  submissions: SubmitSettings;
  notifications: NotifySettings;
  retention: RetentionSettings & MaintenanceSettings;
  /** The decision policy every writer decides with, and the workers replay. */
  decisions: { policy: PolicyInUse };
  objectStore: ObjectStorageSettings;
}

/** The internal API: who may call it, how often, and what it accepts. */
export interface ApiSettings {
  tokens: BearerTokens;
  rateLimitPerMinute: number;
  changeFeedMaxWaiters: number;
  /** Submissions are refused without a callback URL: Smile ID could not answer them. */
  submissionsConfigured: boolean;
  submissionMaxBytes: number;
  submissionMaxImageBytes: number;
}

export function settingsOf(config: Config): Settings {
  return {
    database: {
      url: config.DATABASE_URL,
      poolSize: config.DATABASE_POOL_SIZE,
      timeoutMs: config.DATABASE_TIMEOUT_MS,
    },
    redis: { url: config.REDIS_URL, prefix: config.REDIS_PREFIX },
    keyring: parseKeyring(config.DATA_ENCRYPTION_KEYS),
    dataEncryptionKeys: config.DATA_ENCRYPTION_KEYS,
    smileApi: smileApiSettingsOf(config),
    callbacks: callbackSettingsOf(config),
    api: apiSettingsOf(config),
    pollModel: pollModelOf(config),
    jobs: jobSettingsOf(config),
    reconciliation: {
      concurrency: config.RECONCILE_CONCURRENCY,
      ratePerSecond: config.SMILE_API_RATE_LIMIT_PER_SECOND,
      untrustedShare: config.UNTRUSTED_CHECK_SHARE,
      sweepIntervalMs: config.RECONCILE_SWEEP_INTERVAL_MS,
      batchSize: config.RECONCILE_BATCH_SIZE,
    },
    submissions: {
      partnerId: config.SMILE_PARTNER_ID,
      callbackUrl: config.PUBLIC_CALLBACK_URL,
      maxAttempts: config.SUBMISSION_ATTEMPTS,
      concurrency: config.SUBMISSION_CONCURRENCY,
      batchSize: config.RECONCILE_BATCH_SIZE,
    },
    notifications: notificationSettingsOf(config),
    retention: {
      days: config.RETENTION_DAYS,
      batchSize: config.RETENTION_BATCH_SIZE,
      retentionIntervalMs: config.RETENTION_INTERVAL_MS,
    },
    decisions: { policy: config.DECISION_POLICY },
    objectStore: objectStorageSettingsOf(config),
  };
}

function smileApiSettingsOf(config: Config): Settings['smileApi'] {
  const status = {
    baseUrl: config.SMILE_API_BASE_URL,
    partnerId: config.SMILE_PARTNER_ID,
    apiKeys: config.SMILE_API_KEYS,
    timeoutMs: config.SMILE_API_TIMEOUT_MS,
  };
  return {
    status,
    uploads: { ...status, timeoutMs: Math.max(status.timeoutMs, UPLOAD_TIMEOUT_FLOOR_MS) },
    callsPerSecond: config.SMILE_API_RATE_LIMIT_PER_SECOND,
  };
}

function callbackSettingsOf(config: Config): IntakeOptions {
  return {
    partnerId: config.SMILE_PARTNER_ID,
    apiKeys: config.SMILE_API_KEYS,
    timestampToleranceMs: config.CALLBACK_TIMESTAMP_TOLERANCE_SECONDS * 1000,
    futureSkewMs: config.CALLBACK_FUTURE_SKEW_SECONDS * 1000,
    untrustedBodyQuotaPerHour: config.UNTRUSTED_BODY_QUOTA_PER_HOUR,
    untrustedCheckDelayMs: UNTRUSTED_CHECK_DELAY_MS,
  };
}

function apiSettingsOf(config: Config): ApiSettings {
  return {
    tokens: {
      apiTokens: config.INTERNAL_API_TOKENS,
      piiTokens: config.INTERNAL_PII_TOKENS,
      adminTokens: config.INTERNAL_ADMIN_TOKENS,
      reviewTokens: config.INTERNAL_REVIEW_TOKENS,
    },
    rateLimitPerMinute: config.API_RATE_LIMIT_PER_MINUTE,
    changeFeedMaxWaiters: config.CHANGE_FEED_MAX_WAITERS,
    submissionsConfigured: config.PUBLIC_CALLBACK_URL !== null,
    submissionMaxBytes: config.SUBMISSION_MAX_BYTES,
    submissionMaxImageBytes: config.SUBMISSION_MAX_IMAGE_BYTES,
  };
}

/** The reconciliation section as the poll schedule takes it (docs/design.md#the-polling-model). */
export const pollModelOf = (config: Config): PollModel => ({
  horizonMs: config.RECONCILE_HORIZON_HOURS * HOUR_MS,
  silentFirstMs: config.POLL_SILENT_FIRST_MS,
  reviewFirstMs: config.POLL_REVIEW_FIRST_MS,
  maxIntervalMs: config.POLL_MAX_INTERVAL_MS,
});

/** What the catalog's job options depend on: a job is the same whichever process queues it. */
const jobSettingsOf = (config: Config): JobSettings => ({
  checks: { attempts: config.RECONCILE_CHECK_ATTEMPTS, retryDelayMs: config.RECONCILE_RETRY_DELAY_MS },
  submissions: { attempts: config.SUBMISSION_ATTEMPTS, retryDelayMs: config.SUBMISSION_RETRY_DELAY_MS },
});

/** The webhook section, with each URL's secret beside it: loadConfig has checked there is one per URL. */
function notificationSettingsOf(config: Config): NotifySettings {
  return {
    urls: config.NOTIFY_WEBHOOK_URLS,
    secrets: new Map(
      config.NOTIFY_WEBHOOK_URLS.map((url, index) => [url, config.NOTIFY_WEBHOOK_SECRETS[index]!]),
    ),
    perEndpoint: config.NOTIFY_CONCURRENCY,
    timeoutMs: config.NOTIFY_TIMEOUT_MS,
    retryDelayMs: config.NOTIFY_RETRY_DELAY_MS,
    retryWindowMs: config.NOTIFY_RETRY_HOURS * HOUR_MS,
    batchSize: config.RECONCILE_BATCH_SIZE,
  };
}
