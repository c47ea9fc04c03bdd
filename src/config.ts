import { existsSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { DEFAULT_POLICY_FILE, loadPolicyFile, PolicyFileError } from './decide/policy-file.js';
import type { PolicyInUse } from './domain/decision/policy.js';
import { internalKind, isThisMachine, originOf, portOf, reaches } from './notify/targets.js';
import { parseKeyring } from './security/field-cipher.js';

/** Development values for secrets: convenient locally, refused with NODE_ENV=production. */
export const DEVELOPMENT_SECRETS = {
  SMILE_API_KEYS: 'dev-smile-api-key',
  DATA_ENCRYPTION_KEYS: 'dev:c21pbGVpZC1kZXYta2V5LW5vdC1mb3ItcHJvZC11c2U=',
  INTERNAL_API_TOKENS: 'dev-internal-token',
  INTERNAL_PII_TOKENS: 'dev-pii-token',
  INTERNAL_ADMIN_TOKENS: 'dev-admin-token',
  INTERNAL_REVIEW_TOKENS: 'dev-review-token',
} as const;

/** Not a secret, and a real partner may have this very id: production only requires it to be set. */
const DEVELOPMENT_PARTNER_ID = '085';

const SMILE_BASE_URLS = {
  sandbox: 'https://testapi.smileidentity.com/v1',
  production: 'https://api.smileidentity.com/v1',
} as const;

const commaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

const nonEmptyList = (what: string) =>
  commaList.refine((items) => items.length > 0, `needs at least one ${what}`);

const positiveInt = z.coerce.number().int().positive();

/** A Standard Webhooks secret: `whsec_` and the base64 of the key. */
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;

/** The word that opens callbacks to every source address. */
export const ANY_SOURCE = 'any';

const isAny = (item: string) => item.toLowerCase() === ANY_SOURCE;

function isAddressOrCidr(item: string): boolean {
  const [address = '', prefix, ...rest] = item.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128);
}

const allowedSources = commaList
  .refine(
    (items) => !items.some(isAny) || items.length === 1,
    `\`${ANY_SOURCE}\` cannot be combined with addresses`,
  )
  .refine(
    (items) => items.every((item) => isAny(item) || isAddressOrCidr(item)),
    `needs IP addresses or CIDRs, or \`${ANY_SOURCE}\``,
  )
  .transform((items) => (items.some(isAny) ? [] : items));

/**
 * TRUST_PROXY: "false" (clients connect directly), "true" (trust every hop of X-Forwarded-For; only
 * behind a proxy that overwrites it), or comma-separated addresses/CIDRs of the trusted proxies.
 */
const trustProxy = z.string().transform((value): boolean | string[] => {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
});

/** The process: its environment, role, listener, logs and shutdown. */
const serviceSection = z.object({
  NODE_ENV: z
    .enum(['development', 'test', 'production'])
    .default('development')
    .describe(
      '`development`, `test` or `production`. `production` refuses to start with a development secret, ' +
        'without `SMILE_PARTNER_ID`, or (unless `ROLE=worker`) without `CALLBACK_ALLOWED_CIDRS`.',
    ),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000).describe('TCP port of the HTTP listener.'),
  HOST: z
    .string()
    .min(1)
    .default('0.0.0.0')
    .describe('Address the HTTP listener binds to; `0.0.0.0` is every interface.'),
  ROLE: z
    .enum(['all', 'api', 'worker'])
    .default('all')
    .describe('`all` (API and workers in one process), `api` or `worker`.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('`fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.'),
  DOCS_ENABLED: z
    .enum(['true', 'false'])
    .optional()
    .describe(
      '`true` or `false`: serve the OpenAPI UI at `/docs` and its document at `/docs/json`, without a token.',
    ),
  TRUST_PROXY: trustProxy
    .default(false)
    .describe(
      '`false` (clients connect directly), `true` (trust every `X-Forwarded-For` hop; only behind a proxy ' +
        'that overwrites the header), or comma-separated addresses or CIDRs of the trusted proxies.',
    ),
  SHUTDOWN_TIMEOUT_MS: positiveInt
    .default(15000)
    .describe(
      'Longest a graceful shutdown may take, in milliseconds. Up to 2 s of it (a quarter at most) is kept ' +
        'for closing Postgres and Redis if the drain hangs; then the process exits 1.',
    ),
});

/** Postgres and Redis. */
const storesSection = z.object({
  DATABASE_URL: z
    .url()
    .default('postgresql://postgres@127.0.0.1:5432/smileid_callbacks')
    .describe('Postgres. The database is created at start if it does not exist.'),
  DATABASE_POOL_SIZE: positiveInt.default(10).describe("Connections in the process's Postgres pool."),
  DATABASE_TIMEOUT_MS: positiveInt
    .default(5000)
    .describe(
      'Longest a request waits for a Postgres connection or statement, in milliseconds, before it is ' +
        'answered `503 STORAGE_UNAVAILABLE`.',
    ),
  REDIS_URL: z
    .url()
    .default('redis://127.0.0.1:6379')
    .describe('Redis, for the BullMQ queues and the rate-limit counters.'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w-]+$/, 'letters, digits, - and _ only')
    .default('smileid')
    .describe(
      'Prefix of every Redis key (queues, rate-limit counters), so several deployments can share one ' +
        'Redis. Letters, digits, `-` and `_`.',
    ),
});

/** Smile ID: the partner, its keys, where and how fast it is called. */
const smileIdSection = z.object({
  SMILE_PARTNER_ID: z
    .string()
    .min(1)
    .default(DEVELOPMENT_PARTNER_ID)
    .describe(
      'Partner id exactly as the Smile ID portal shows it, leading zeros kept. The default is a ' +
        'development value; it is not a secret, but `NODE_ENV=production` requires the variable to be set.',
    ),
  SMILE_API_KEYS: nonEmptyList('API key')
    .default([DEVELOPMENT_SECRETS.SMILE_API_KEYS])
    .describe(
      'Comma-separated signature API keys accepted on callbacks and job_status answers; the first also ' +
        'signs requests to Smile ID. After a rotation, put the new key first and keep the old one after it ' +
        'until callbacks signed with it stop arriving.',
    ),
  SMILE_ENV: z
    .enum(['sandbox', 'production'])
    .default('sandbox')
    .describe('`sandbox` or `production`: picks the Job Status base URL.'),
  SMILE_API_BASE_URL: z
    .url()
    .optional()
    .describe(
      'Overrides the Smile ID base URL, ending in `/v1` (e.g. a local simulator). Unset, it is ' +
        '`https://testapi.smileidentity.com/v1` for `SMILE_ENV=sandbox` and ' +
        '`https://api.smileidentity.com/v1` for `SMILE_ENV=production`.',
    ),
  SMILE_API_TIMEOUT_MS: positiveInt
    .default(10000)
    .describe('Longest a Job Status request to Smile ID may take, in milliseconds.'),
  SMILE_API_RATE_LIMIT_PER_SECOND: positiveInt
    .default(20)
    .describe(
      'Calls to Smile ID per second — job_status checks, submissions, image links — across every process, ' +
        'counted in Redis. When it binds, confirmations of fresh callbacks go first.',
    ),
});

/** Callbacks: what is accepted, from where, how fast, and what untrusted ones may keep or buy. */
const callbacksSection = z.object({
  CALLBACK_MAX_BYTES: positiveInt
    .default(4 * 1024 * 1024)
    .describe('Largest callback body accepted, in bytes; a larger one is answered `413`.'),
  CALLBACK_TIMESTAMP_TOLERANCE_SECONDS: positiveInt
    .default(900)
    .describe('A signed callback whose timestamp is older than this is stored but not applied (untrusted).'),
  CALLBACK_FUTURE_SKEW_SECONDS: positiveInt
    .default(60)
    .describe(
      'A signed callback whose timestamp is further ahead of our clock than this is stored but not applied.',
    ),
  UNTRUSTED_BODY_QUOTA_PER_HOUR: positiveInt
    .default(100)
    .describe(
      'Untrusted callbacks per source address per hour whose bodies are kept; past it, only their digest ' +
        'and metadata are stored (`bodyWithheld`).',
    ),
  UNTRUSTED_CHECK_SHARE: z.coerce
    .number()
    .gt(0)
    .lt(1)
    .default(0.05)
    .describe(
      'Share of `SMILE_API_RATE_LIMIT_PER_SECOND` (at least one call per second) reserved for the one ' +
        'job_status look an untrusted body may buy; every other check gets the rest. Between 0 and 1.',
    ),
  /**
   * Parsed to a list where empty allows any source; production insists on an explicit value
   * (productionProblems), so that an open door is a decision.
   */
  CALLBACK_ALLOWED_CIDRS: allowedSources
    .default([])
    .describe(
      'Comma-separated addresses or CIDRs allowed to POST callbacks (others get `403`), or `any` for every ' +
        'source. Required with `NODE_ENV=production` unless `ROLE=worker`; `any` there starts with a warning.',
    ),
  CALLBACK_RATE_LIMIT_PER_MINUTE: positiveInt
    .default(6000)
    .describe('Callback requests per minute per client address.'),
});

/** The internal /v1 API: its tokens, its rate limit, its long polls. */
const apiSection = z.object({
  INTERNAL_API_TOKENS: nonEmptyList('token')
    .default([DEVELOPMENT_SECRETS.INTERNAL_API_TOKENS])
    .describe('Comma-separated bearer tokens that may read outcomes and register jobs on `/v1/*`.'),
  INTERNAL_PII_TOKENS: commaList
    .default([DEVELOPMENT_SECRETS.INTERNAL_PII_TOKENS])
    .describe(
      'Comma-separated bearer tokens that may do everything an API token can and also read identity ' +
        'data (`idInfo`, stored bodies, image links).',
    ),
  INTERNAL_ADMIN_TOKENS: commaList
    .default([DEVELOPMENT_SECRETS.INTERNAL_ADMIN_TOKENS])
    .describe(
      'Comma-separated bearer tokens that may administer webhooks (`/v1/notifications/*`: endpoints, ' +
        'their enabling and removal, dead letters and redelivery), and do everything an API token can. ' +
        'Other tokens get `403 ADMIN_FORBIDDEN` there.',
    ),
  INTERNAL_REVIEW_TOKENS: commaList
    .default([DEVELOPMENT_SECRETS.INTERNAL_REVIEW_TOKENS])
    .describe(
      'Comma-separated bearer tokens of the people who settle reviews (`POST /v1/jobs/:jobId/review`, ' +
        'audited); other tokens get `403 REVIEW_FORBIDDEN` there. They may do everything an API token can, ' +
        'and read the identity data and image links of a job while its decision is `review` (audited), ' +
        'nothing else a PII token may.',
    ),
  API_RATE_LIMIT_PER_MINUTE: positiveInt
    .default(6000)
    .describe('`/v1/*` requests per minute per client address.'),
  CHANGE_FEED_MAX_WAITERS: positiveInt
    .default(500)
    .describe(
      'Requests that may wait at once for changes (`GET /v1/changes?wait=`) in one API process; past it, ' +
        '`429 CHANGE_FEED_BUSY` with `Retry-After`. Waiters at the same position share their reads of the feed.',
    ),
});

/** Submissions: where Smile ID calls back, their size limits, their uploads. */
const submissionsSection = z.object({
  PUBLIC_CALLBACK_URL: z
    .url()
    .optional()
    .describe(
      'The `callback_url` sent to Smile ID with each submission: where Smile ID reaches ' +
        '`POST /callbacks/smile-id` from the internet. Unset outside production, ' +
        '`http://127.0.0.1:$PORT/callbacks/smile-id` (enough for the simulator, never for Smile ID itself); ' +
        'unset in production, `POST /v1/submissions` answers `501 SUBMISSIONS_NOT_CONFIGURED`.',
    ),
  SUBMISSION_MAX_BYTES: positiveInt
    .default(16 * 1024 * 1024)
    .describe(
      'Largest `POST /v1/submissions` body, in bytes (its images are base64, a third larger than the ' +
        'JPEGs): the total size limit of a submission. A larger one is answered `413`. It must hold one ' +
        'image of `SUBMISSION_MAX_IMAGE_BYTES` in base64 and 64 KiB for the rest of the request, or the ' +
        'service refuses to start; the default holds two images at the 4 MiB limit (5.6 MB each in base64).',
    ),
  SUBMISSION_MAX_IMAGE_BYTES: positiveInt
    .default(4 * 1024 * 1024)
    .describe(
      'Largest single JPEG of a submission, in bytes once decoded; a larger one is answered ' +
        '`400 IMAGE_TOO_LARGE`.',
    ),
  SUBMISSION_ATTEMPTS: positiveInt
    .default(8)
    .describe(
      'Attempts per submission on 5xx answers, timeouts and network errors, with exponential backoff, ' +
        'before it is marked `failed`.',
    ),
  SUBMISSION_RETRY_DELAY_MS: positiveInt
    .default(5000)
    .describe(
      'First retry delay of a submission, in milliseconds; each further retry doubles it (8 attempts ' +
        'from 5 s span about 10 minutes).',
    ),
  SUBMISSION_CONCURRENCY: positiveInt
    .default(4)
    .describe(
      'Submissions uploaded at once per worker process. Each holds its images and its zip in memory ' +
        "while it runs (up to about twice `SUBMISSION_MAX_BYTES`), so this bounds a worker's memory; " +
        'their calls to Smile ID share `SMILE_API_RATE_LIMIT_PER_SECOND` with the job_status checks.',
    ),
});

/** Reconciliation: the poll model and the job_status checks. */
const reconciliationSection = z.object({
  RECONCILE_CONCURRENCY: positiveInt
    .default(64)
    .describe(
      'Job Status checks in flight per worker process. 64 kept 50 ms Smile ID answers from binding on two ' +
        'cores (docs/performance.md).',
    ),
  RECONCILE_HORIZON_HOURS: positiveInt
    .default(168)
    .describe(
      'How long a job keeps being checked before it is marked stale, in hours; long enough to outlast ' +
        'human review.',
    ),
  POLL_SILENT_FIRST_MS: positiveInt
    .default(30_000)
    .describe(
      'A registered or submitted job with no callback yet is first checked this long after it was first ' +
        'seen, then at intervals doubling with its age: its callbacks may have been lost (docs/design.md).',
    ),
  POLL_REVIEW_FIRST_MS: positiveInt
    .default(1_800_000)
    .describe(
      "A job that Smile ID's signed job_status says is in human review is checked again, in case its final " +
        'callback is lost, no sooner than this (30 minutes), then at intervals growing with its age.',
    ),
  POLL_MAX_INTERVAL_MS: positiveInt
    .default(21_600_000)
    .describe('The longest interval between two job_status checks of a job, in milliseconds (6 hours).'),
  RECONCILE_SWEEP_INTERVAL_MS: positiveInt
    .default(2000)
    .describe('How often due checks are looked for, in milliseconds.'),
  RECONCILE_BATCH_SIZE: positiveInt
    .default(500)
    .describe('Due jobs claimed per database query by the sweep.'),
  RECONCILE_CHECK_ATTEMPTS: positiveInt
    .default(4)
    .describe(
      'Attempts per check on 5xx answers and timeouts, with exponential backoff, before the job waits for ' +
        'its lease to end.',
    ),
  RECONCILE_RETRY_DELAY_MS: positiveInt
    .default(2000)
    .describe('First retry delay after a 5xx or timeout, in milliseconds; each further retry doubles it.'),
});

/** Webhooks to internal endpoints. */
const notificationsSection = z.object({
  NOTIFY_WEBHOOK_URLS: commaList
    .refine(
      (urls) => urls.every((url) => /^https?:\/\/[^\s]+$/.test(url) && URL.canParse(url)),
      'needs http(s) URLs',
    )
    .refine((urls) => new Set(urls).size === urls.length, 'lists a URL twice')
    .default([])
    .describe(
      'Comma-separated internal endpoints that receive signed `job.updated` and `job.finalized` webhooks ' +
        '(Standard Webhooks). A new endpoint receives changes from when it is first configured; one no ' +
        'worker lists for 15 minutes is retired, what waits for it kept until it returns or is removed ' +
        "(docs/api.md). A URL that reaches this service's own listener or `PUBLIC_CALLBACK_URL`, or its " +
        'Postgres or Redis, is refused; one at a loopback, unspecified or link-local address starts with a ' +
        'warning (docs/security.md#webhook-targets).',
    ),
  NOTIFY_WEBHOOK_SECRETS: commaList
    .refine(
      (secrets) => secrets.every((secret) => secret.split('|').every((part) => WEBHOOK_SECRET.test(part))),
      'needs `whsec_<base64>` secrets, several joined by `|` while rotating',
    )
    .default([])
    .describe(
      'One Standard Webhooks secret (`whsec_<base64>`) per URL of `NOTIFY_WEBHOOK_URLS`, in the same order. ' +
        'While rotating, join the new and the old with `|`: every message is signed with each.',
    ),
  NOTIFY_TIMEOUT_MS: positiveInt
    .default(10000)
    .describe('Longest a webhook delivery may take, in milliseconds, before it counts as failed.'),
  NOTIFY_RETRY_DELAY_MS: positiveInt
    .default(5000)
    .describe('First retry delay of a failed webhook delivery, in milliseconds; it doubles up to an hour.'),
  NOTIFY_RETRY_HOURS: positiveInt
    .default(24)
    .describe('How long a webhook delivery is retried before it becomes a dead letter, in hours.'),
  NOTIFY_CONCURRENCY: positiveInt
    .default(16)
    .describe(
      'Webhook deliveries in flight per endpoint, across the workers; each worker process can run that ' +
        'many for each endpoint of its `NOTIFY_WEBHOOK_URLS` at once, so a slow endpoint never holds ' +
        "another's. An endpoint that stops answering backs off, then gets one delivery at a time.",
    ),
});

/** Decisions: the company's policy for what to do with each job. */
const decisionsSection = z.object({
  DECISION_POLICY_FILE: z
    .string()
    .min(1)
    .optional()
    .describe(
      'YAML or JSON decision policy: ordered rules, the first that holds decides, and a fallback ' +
        '(docs/api.md#the-policy-file). Checked at start: a policy with a problem stops the process, ' +
        'every problem listed. `npm run policy:check -- FILE` checks one before it is deployed.',
    ),
  REVIEW_SLA_HOURS: z.coerce
    .number()
    .positive()
    .default(24)
    .describe(
      'How long a job may wait in review (decision `review`) for a person: `smileid_review_sla_seconds` ' +
        'exports it, and the `SmileIdReviewOverdue` alert fires when the oldest review has waited longer.',
    ),
});

/** Identity data at rest: its keys and how long it is kept. */
const dataSection = z.object({
  DATA_ENCRYPTION_KEYS: commaList
    .refine((entries) => {
      try {
        parseKeyring(entries);
        return true;
      } catch {
        return false;
      }
    }, 'needs `id:base64` entries of 32-byte keys with distinct ids')
    .default([DEVELOPMENT_SECRETS.DATA_ENCRYPTION_KEYS])
    .describe(
      'Comma-separated `id:base64` AES-256 keys (32 bytes each) sealing identity data at rest, newest ' +
        'first. Older keys stay listed until `npm run keys:reencrypt` has moved their rows to the newest.',
    ),
  RETENTION_DAYS: positiveInt
    .default(180)
    .describe(
      "After this many days, stored bodies (with their photos) are purged and the ID authority's record " +
        'is erased.',
    ),
  RETENTION_BATCH_SIZE: positiveInt.default(500).describe('Rows purged per statement by the retention job.'),
  RETENTION_INTERVAL_MS: positiveInt
    .default(3_600_000)
    .describe('How often the retention job runs, in milliseconds.'),
});

/** S3 bucket names: 3-63 lower-case letters, digits, dots and hyphens. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The object store that holds sealed photos (store/objects/). Region, credentials and endpoint are the
 * AWS SDK's own variables, read here (the only reader of the environment) and passed to it.
 */
const objectStoreSection = z.object({
  OBJECT_STORE_BUCKET: z
    .string()
    .regex(BUCKET_NAME, 'needs an S3 bucket name: 3-63 lower-case letters, digits, dots and hyphens')
    .optional()
    .describe(
      "The S3 bucket that holds the photos and other bulky strings of stored bodies (the ID authority's " +
        '`Photo`, document images), each sealed with `DATA_ENCRYPTION_KEYS`; Postgres keeps the rest. ' +
        'Required with `NODE_ENV=production` unless `OBJECT_STORE_INLINE=true`. Unset in development, ' +
        '`npm start` embeds an S3-compatible store on a local folder (docs/operations.md#object-storage).',
    ),
  OBJECT_STORE_PREFIX: z
    .string()
    .regex(/^[\w!.*'()/-]*$/, "letters, digits and !-_.*'()/ only")
    .default('')
    .describe(
      'Prefix of every object key in the bucket, e.g. `smileid/`, so one bucket can serve several deployments.',
    ),
  OBJECT_STORE_FORCE_PATH_STYLE: z
    .enum(['true', 'false'])
    .default('false')
    .describe(
      '`true` for MinIO and other servers that address buckets by path (`http://host/bucket/key`) ' +
        'rather than by host name.',
    ),
  OBJECT_STORE_INLINE: z
    .enum(['true', 'false'])
    .default('false')
    .describe(
      '`true` keeps whole bodies, photos included, in Postgres, with no object store: about 1.4 MB per ' +
        'job instead of a few KiB, for small deployments only. Cannot be combined with `OBJECT_STORE_BUCKET`.',
    ),
  OBJECT_STORE_TIMEOUT_MS: positiveInt
    .default(5000)
    .describe(
      'Longest a call to the object store may take, in milliseconds. A callback whose photo cannot be written ' +
        'in time is stored whole in Postgres and moved out later.',
    ),
  OBJECT_STORE_ORPHAN_GRACE_MINUTES: positiveInt
    .default(60)
    .describe(
      'An object no stored body refers to (its row never committed) is removed once it is this old; ' +
        'longer than any write takes.',
    ),
  AWS_REGION: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The bucket's region (the AWS SDK's variable). Unset, the SDK finds it as it does for any client: the " +
        "`region` of the profile (`AWS_PROFILE`, `~/.aws/config`), or the instance's metadata on EC2; a start " +
        'that finds none stops and says so. Unset with `AWS_ENDPOINT_URL_S3` (MinIO and the like): `us-east-1`.',
    ),
  AWS_ACCESS_KEY_ID: z
    .string()
    .min(1)
    .optional()
    .describe(
      "Credentials for the bucket (the AWS SDK's variable), with `AWS_SECRET_ACCESS_KEY`. Unset, the SDK's " +
        'default chain applies: an instance, task or pod role, or a profile.',
    ),
  AWS_SECRET_ACCESS_KEY: z.string().min(1).optional().describe('The secret of `AWS_ACCESS_KEY_ID`.'),
  AWS_SESSION_TOKEN: z
    .string()
    .min(1)
    .optional()
    .describe(
      "The session token of temporary keys (the AWS SDK's variable), e.g. from `aws sts assume-role`, with " +
        '`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`. A secret.',
    ),
  AWS_ENDPOINT_URL_S3: z
    .url()
    .optional()
    .describe(
      "Endpoint of an S3-compatible server (the AWS SDK's variable), e.g. `http://minio:9000`; unset for " +
        'AWS S3 itself.',
    ),
});

/**
 * The environment, grouped by concern, one variable per field. Each `.describe()` is that variable's
 * documentation: `npm run docs:config` turns the schema into the table in docs/configuration.md, in
 * the order of the sections below.
 */
const SECTIONS = [
  serviceSection,
  storesSection,
  smileIdSection,
  callbacksSection,
  apiSection,
  submissionsSection,
  reconciliationSection,
  decisionsSection,
  notificationsSection,
  dataSection,
  objectStoreSection,
] as const;

export const environmentSchema = z.object({
  ...serviceSection.shape,
  ...storesSection.shape,
  ...smileIdSection.shape,
  ...callbacksSection.shape,
  ...apiSection.shape,
  ...submissionsSection.shape,
  ...reconciliationSection.shape,
  ...decisionsSection.shape,
  ...notificationsSection.shape,
  ...dataSection.shape,
  ...objectStoreSection.shape,
});

type Environment = z.infer<typeof environmentSchema>;

/**
 * What production requires to be given: the development secrets, the partner id, and (for a process
 * that serves callbacks) CALLBACK_ALLOWED_CIDRS. In production these are parsed without their
 * development defaults, so the rules below see from the parsed values whether they were given.
 */
const GIVEN_IN_PRODUCTION = [
  'SMILE_PARTNER_ID',
  'CALLBACK_ALLOWED_CIDRS',
  ...(Object.keys(DEVELOPMENT_SECRETS) as (keyof typeof DEVELOPMENT_SECRETS)[]),
] as const satisfies readonly (keyof Environment)[];

/** A section as production parses it: the variables it requires, optional instead of defaulted. */
function productionVariant(section: z.ZodObject): z.ZodObject {
  const required = GIVEN_IN_PRODUCTION.filter((name) => name in section.shape);
  if (required.length === 0) return section;
  return section.extend(
    Object.fromEntries(
      required.map((name) => [name, z.optional((section.shape[name] as z.ZodDefault).unwrap())]),
    ),
  );
}

/**
 * Parses each section on its own, so that a section with an invalid value still lets the others be
 * checked, and every problem is listed at once.
 */
function parseSections(input: Record<string, string>, production: boolean) {
  const problems: string[] = [];
  const values: Partial<Record<string, unknown>> = {};
  for (const section of SECTIONS) {
    const parsed = (production ? productionVariant(section) : section).safeParse(input);
    if (parsed.success) Object.assign(values, parsed.data);
    else problems.push(...parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`));
  }
  return { problems, values: values as Partial<Environment> };
}

export type Config = Readonly<
  Omit<
    z.infer<typeof environmentSchema>,
    | 'SMILE_API_BASE_URL'
    | 'DOCS_ENABLED'
    | 'PUBLIC_CALLBACK_URL'
    | 'OBJECT_STORE_FORCE_PATH_STYLE'
    | 'OBJECT_STORE_INLINE'
  > & {
    SMILE_API_BASE_URL: string;
    DOCS_ENABLED: boolean;
    /** Null in production when unset: submissions are then refused, since Smile ID could not answer them. */
    PUBLIC_CALLBACK_URL: string | null;
    /**
     * True in development when no Smile ID base URL is set and the keys are the development defaults:
     * nothing could reach Smile ID, so `npm start` plays it with the simulator inside the process.
     * Never true in production, which refuses development keys.
     */
    SMILE_API_SIMULATED: boolean;
    /** The decision policy read from DECISION_POLICY_FILE, or the default one, with its version. */
    DECISION_POLICY: PolicyInUse;
    OBJECT_STORE_FORCE_PATH_STYLE: boolean;
    OBJECT_STORE_INLINE: boolean;
    /**
     * True outside production when neither a bucket nor inline storage is set: `npm start` then embeds an
     * S3-compatible store on a local folder (src/embedded-object-store.ts). Never true in production,
     * which requires one of the two.
     */
    OBJECT_STORE_EMBEDDED: boolean;
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The configuration every entry point runs with: the process environment over `.env` in the working
 * directory, when there is one (real variables win). A configuration that does not parse ends the
 * process with every problem listed on stderr, and exit code 1.
 */
export function loadEntryPointConfig(): Config {
  if (existsSync('.env')) process.loadEnvFile('.env');
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Parses the environment once into a frozen Config, listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const production = env.NODE_ENV === 'production';
  const input = withoutEmptyValues(env, production ? GIVEN_IN_PRODUCTION : []);
  const { problems, values } = parseSections(input, production);
  if (problems.length === 0) {
    const parsed = values as Environment;
    if (parsed.NOTIFY_WEBHOOK_URLS.length !== parsed.NOTIFY_WEBHOOK_SECRETS.length) {
      problems.push(
        `NOTIFY_WEBHOOK_SECRETS: needs one secret per URL of NOTIFY_WEBHOOK_URLS (${parsed.NOTIFY_WEBHOOK_URLS.length}), got ${parsed.NOTIFY_WEBHOOK_SECRETS.length}`,
      );
    }
    problems.push(
      ...submissionLimitProblems(parsed),
      ...webhookTargetProblems(parsed),
      ...objectStoreProblems(parsed),
    );
  }
  // Checked on whatever sections parsed, so one run reports every problem.
  if (production) problems.push(...productionProblems(values));
  const policy = decisionPolicy(values.DECISION_POLICY_FILE, problems);
  if (problems.length > 0 || policy === null) throw new ConfigError(problems);
  // In production a worker may leave CALLBACK_ALLOWED_CIDRS unset: it serves no callbacks.
  const config = { ...values, CALLBACK_ALLOWED_CIDRS: values.CALLBACK_ALLOWED_CIDRS ?? [] } as Environment;
  return Object.freeze({
    ...config,
    SMILE_API_BASE_URL: (config.SMILE_API_BASE_URL ?? SMILE_BASE_URLS[config.SMILE_ENV]).replace(/\/+$/, ''),
    DOCS_ENABLED:
      config.DOCS_ENABLED === undefined ? config.NODE_ENV !== 'production' : config.DOCS_ENABLED === 'true',
    PUBLIC_CALLBACK_URL:
      config.PUBLIC_CALLBACK_URL ??
      (config.NODE_ENV === 'production' ? null : `http://127.0.0.1:${config.PORT}/callbacks/smile-id`),
    OBJECT_STORE_FORCE_PATH_STYLE: config.OBJECT_STORE_FORCE_PATH_STYLE === 'true',
    OBJECT_STORE_INLINE: config.OBJECT_STORE_INLINE === 'true',
    OBJECT_STORE_EMBEDDED:
      config.NODE_ENV !== 'production' &&
      config.OBJECT_STORE_BUCKET === undefined &&
      config.OBJECT_STORE_INLINE !== 'true',
    SMILE_API_SIMULATED:
      config.NODE_ENV === 'development' &&
      config.SMILE_API_BASE_URL === undefined &&
      config.SMILE_API_KEYS.length === 1 &&
      config.SMILE_API_KEYS[0] === DEVELOPMENT_SECRETS.SMILE_API_KEYS,
    DECISION_POLICY: policy,
  });
}

/** The decision policy DECISION_POLICY_FILE names (the default one when unset); its problems added to `problems`. */
function decisionPolicy(file: string | undefined, problems: string[]): PolicyInUse | null {
  try {
    return loadPolicyFile(file ?? DEFAULT_POLICY_FILE);
  } catch (error) {
    if (!(error instanceof PolicyFileError)) throw error;
    problems.push(...error.problems.map((problem) => `DECISION_POLICY_FILE (${error.file}): ${problem}`));
    return null;
  }
}

/** A bucket and inline storage contradict each other; a key id needs its secret and the reverse. */
function objectStoreProblems(config: Environment): string[] {
  const problems: string[] = [];
  if (config.OBJECT_STORE_BUCKET !== undefined && config.OBJECT_STORE_INLINE === 'true') {
    problems.push(
      'OBJECT_STORE_INLINE=true keeps photos in Postgres: it cannot be combined with OBJECT_STORE_BUCKET',
    );
  }
  if ((config.AWS_ACCESS_KEY_ID === undefined) !== (config.AWS_SECRET_ACCESS_KEY === undefined)) {
    problems.push('AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together, or neither');
  }
  if (config.AWS_SESSION_TOKEN !== undefined && config.AWS_ACCESS_KEY_ID === undefined) {
    problems.push(
      'AWS_SESSION_TOKEN belongs to temporary keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with it',
    );
  }
  return problems;
}

/** What a submission holds beside its images: ID details, up to 20 partner params, the JSON around them. */
const SUBMISSION_ROOM_BYTES = 64 * 1024;

/**
 * A body limit that cannot hold one image at the image limit (in base64, a third larger) would answer
 * 413 before `IMAGE_TOO_LARGE` could ever be said, and refuse images the documented limit allows.
 */
function submissionLimitProblems(config: {
  SUBMISSION_MAX_BYTES: number;
  SUBMISSION_MAX_IMAGE_BYTES: number;
}): string[] {
  const needed = 4 * Math.ceil(config.SUBMISSION_MAX_IMAGE_BYTES / 3) + SUBMISSION_ROOM_BYTES;
  if (config.SUBMISSION_MAX_BYTES >= needed) return [];
  return [
    `SUBMISSION_MAX_BYTES: must hold one image of SUBMISSION_MAX_IMAGE_BYTES (${config.SUBMISSION_MAX_IMAGE_BYTES}) ` +
      `in base64 and the rest of a request: at least ${needed}, got ${config.SUBMISSION_MAX_BYTES}`,
  ];
}

/**
 * Webhook URLs that reach the service itself (its listener, its public callback origin) or its own
 * Postgres or Redis: refused, as nothing good comes of posting webhooks there (notify/targets.ts).
 */
function webhookTargetProblems(config: z.infer<typeof environmentSchema>): string[] {
  const listener = { host: config.HOST, port: config.PORT };
  const callbackOrigin = config.PUBLIC_CALLBACK_URL ? new URL(config.PUBLIC_CALLBACK_URL).origin : null;
  const store = (url: string, defaultPort: number) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: parsed.port === '' ? defaultPort : Number(parsed.port) };
  };
  const database = store(config.DATABASE_URL, 5432);
  const redis = store(config.REDIS_URL, 6379);
  return config.NOTIFY_WEBHOOK_URLS.flatMap((text) => {
    const url = new URL(text);
    const named = `NOTIFY_WEBHOOK_URLS: ${originOf(url)}`;
    if (reaches(url, listener) || (isThisMachine(url.hostname) && portOf(url) === config.PORT)) {
      return [`${named} is this service's own listener (HOST, PORT ${config.PORT}): it would notify itself`];
    }
    if (url.origin === callbackOrigin) {
      return [`${named} is the origin of PUBLIC_CALLBACK_URL, this service itself: it would notify itself`];
    }
    if (reaches(url, database)) return [`${named} is the Postgres of DATABASE_URL, not a webhook receiver`];
    if (reaches(url, redis)) return [`${named} is the Redis of REDIS_URL, not a webhook receiver`];
    return [];
  });
}

/**
 * What a valid configuration should still be told about at start, one line each: webhook URLs at a
 * loopback, unspecified or link-local address (notify/targets.ts).
 */
export function configWarnings(config: Config): string[] {
  return config.NOTIFY_WEBHOOK_URLS.flatMap((text) => {
    const url = new URL(text);
    const kind = internalKind(url.hostname);
    return kind === null
      ? []
      : [
          `NOTIFY_WEBHOOK_URLS: ${originOf(url)} is a ${kind} address: webhooks are posted to whatever ` +
            'listens there, next to this service (docs/security.md#webhook-targets)',
        ];
  });
}

/** Production's rules, on the parsed values: what must be given, and no development secret. */
function productionProblems(values: Partial<Environment>): string[] {
  const partner =
    values.SMILE_PARTNER_ID === undefined ? ['SMILE_PARTNER_ID must be set when NODE_ENV=production'] : [];
  // A process that serves callbacks must not be open to the internet by omission; `any` is a decision.
  const sources =
    values.ROLE !== 'worker' && values.CALLBACK_ALLOWED_CIDRS === undefined
      ? [
          `CALLBACK_ALLOWED_CIDRS must be set when NODE_ENV=production: Smile ID's source addresses, ` +
            `or \`${ANY_SOURCE}\` to accept callbacks from every address`,
        ]
      : [];
  // Photos in Postgres at production volumes is a decision, never a default: 1.4 MB per job.
  const photos =
    values.OBJECT_STORE_BUCKET === undefined && values.OBJECT_STORE_INLINE !== 'true'
      ? [
          'OBJECT_STORE_BUCKET must be set when NODE_ENV=production (the S3 bucket for photos), or ' +
            'OBJECT_STORE_INLINE=true to keep them in Postgres (small deployments only)',
        ]
      : [];
  return [...partner, ...sources, ...photos].concat(
    Object.entries(DEVELOPMENT_SECRETS).flatMap(([name, developmentValue]) => {
      const value = values[name as keyof typeof DEVELOPMENT_SECRETS];
      if (value === undefined) return [`${name} must be set when NODE_ENV=production`];
      if (value.includes(developmentValue)) {
        return [`${name} holds a development default, which NODE_ENV=production refuses`];
      }
      return [];
    }),
  );
}

/**
 * Treats `NAME=` like an unset variable, so .env files can list every name; so too, for the variables
 * production requires, a value of only blanks and commas, which lists nothing.
 */
function withoutEmptyValues(env: NodeJS.ProcessEnv, required: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] =>
        entry[1] !== undefined &&
        entry[1] !== '' &&
        !(required.includes(entry[0]) && /^[\s,]*$/.test(entry[1])),
    ),
  );
}
