import { isIP } from 'node:net';
import { z } from 'zod';
import { parseKeyring } from './security/field-cipher.js';

/** Development values for secrets: convenient locally, refused with NODE_ENV=production. */
export const DEVELOPMENT_SECRETS = {
  SMILE_API_KEYS: 'dev-smile-api-key',
  DATA_ENCRYPTION_KEYS: 'dev:c21pbGVpZC1kZXYta2V5LW5vdC1mb3ItcHJvZC11c2U=',
  INTERNAL_API_TOKENS: 'dev-internal-token',
  INTERNAL_PII_TOKENS: 'dev-pii-token',
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

const environmentSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).default('0.0.0.0'),
  ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/smileid_callbacks'),
  DATABASE_POOL_SIZE: positiveInt.default(10),
  /** Longest a request waits for Postgres (connection + statement) before answering 503. */
  DATABASE_TIMEOUT_MS: positiveInt.default(5000),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  SMILE_PARTNER_ID: z.string().min(1).default(DEVELOPMENT_PARTNER_ID),
  SMILE_API_KEYS: nonEmptyList('API key').default([DEVELOPMENT_SECRETS.SMILE_API_KEYS]),
  SMILE_ENV: z.enum(['sandbox', 'production']).default('sandbox'),
  SMILE_API_BASE_URL: z.url().optional(),
  INTERNAL_API_TOKENS: nonEmptyList('token').default([DEVELOPMENT_SECRETS.INTERNAL_API_TOKENS]),
  INTERNAL_PII_TOKENS: commaList.default([DEVELOPMENT_SECRETS.INTERNAL_PII_TOKENS]),
  /**
   * AES-256-GCM keys for identity data at rest, `id:base64` (32 bytes), newest first. Older keys stay
   * listed until `npm run keys:reencrypt` has moved their rows to the newest.
   */
  DATA_ENCRYPTION_KEYS: commaList
    .refine((entries) => {
      try {
        parseKeyring(entries);
        return true;
      } catch {
        return false;
      }
    }, 'needs `id:base64` entries of 32-byte keys with distinct ids')
    .default([DEVELOPMENT_SECRETS.DATA_ENCRYPTION_KEYS]),
  /** After this many days, photos and raw bodies are purged and identity fields erased. */
  RETENTION_DAYS: positiveInt.default(180),
  RETENTION_BATCH_SIZE: positiveInt.default(500),
  RETENTION_INTERVAL_MS: positiveInt.default(3_600_000),
  CALLBACK_MAX_BYTES: positiveInt.default(4 * 1024 * 1024),
  /** A signed callback whose timestamp is older than this is stored but not applied. */
  CALLBACK_TIMESTAMP_TOLERANCE_SECONDS: positiveInt.default(900),
  /** A signed callback whose timestamp is further ahead of our clock than this is stored but not applied. */
  CALLBACK_FUTURE_SKEW_SECONDS: positiveInt.default(60),
  /** Untrusted callbacks per source address per hour whose bodies are kept; past it, digest and metadata only. */
  UNTRUSTED_BODY_QUOTA_PER_HOUR: positiveInt.default(100),
  /**
   * Share of SMILE_API_RATE_LIMIT_PER_SECOND reserved for the one check an untrusted body may buy
   * (at least one call per second); the rest serves every other check.
   */
  UNTRUSTED_CHECK_SHARE: z.coerce.number().gt(0).lt(1).default(0.05),
  /**
   * Source addresses allowed to POST callbacks (CIDRs or addresses), or `any`. Parsed to a list where
   * empty allows any source; production insists on an explicit value (productionProblems).
   */
  CALLBACK_ALLOWED_CIDRS: allowedSources.default([]),
  CALLBACK_RATE_LIMIT_PER_MINUTE: positiveInt.default(6000),
  API_RATE_LIMIT_PER_MINUTE: positiveInt.default(6000),
  /** Serve the OpenAPI document and UI at /docs without a token. Default: on, except in production. */
  DOCS_ENABLED: z.enum(['true', 'false']).optional(),
  TRUST_PROXY: trustProxy.default(false),
  SHUTDOWN_TIMEOUT_MS: positiveInt.default(15000),
  /** Prefix of every Redis key (queues, rate limits), so several deployments can share one Redis. */
  REDIS_PREFIX: z
    .string()
    .regex(/^[\w-]+$/, 'letters, digits, - and _ only')
    .default('smileid'),
  SMILE_API_TIMEOUT_MS: positiveInt.default(10000),
  /** Job Status calls per second, across every worker process (a BullMQ limiter in Redis). */
  SMILE_API_RATE_LIMIT_PER_SECOND: positiveInt.default(20),
  /** Job Status calls in flight per worker process. */
  RECONCILE_CONCURRENCY: positiveInt.default(64),
  /** How long a job is polled before it is marked stale: long enough to outlast human review. */
  RECONCILE_HORIZON_HOURS: positiveInt.default(168),
  RECONCILE_SWEEP_INTERVAL_MS: positiveInt.default(2000),
  RECONCILE_BATCH_SIZE: positiveInt.default(500),
  /** Attempts per check on 5xx and timeouts, with exponential backoff, before the job waits for its lease. */
  RECONCILE_CHECK_ATTEMPTS: positiveInt.default(4),
  /** First retry delay after a 5xx or timeout; each further retry doubles it. */
  RECONCILE_RETRY_DELAY_MS: positiveInt.default(2000),
});

export type Config = Readonly<
  Omit<z.infer<typeof environmentSchema>, 'SMILE_API_BASE_URL' | 'DOCS_ENABLED'> & {
    SMILE_API_BASE_URL: string;
    DOCS_ENABLED: boolean;
  }
>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment once into a frozen Config, listing every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = environmentSchema.safeParse(withoutEmptyValues(env));
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  // Checked even when other values are invalid, so one run reports every problem.
  if (env.NODE_ENV === 'production') problems.push(...productionProblems(env));
  if (!parsed.success || problems.length > 0) throw new ConfigError(problems);
  const config = parsed.data;
  return Object.freeze({
    ...config,
    SMILE_API_BASE_URL: (config.SMILE_API_BASE_URL ?? SMILE_BASE_URLS[config.SMILE_ENV]).replace(/\/+$/, ''),
    DOCS_ENABLED:
      config.DOCS_ENABLED === undefined ? config.NODE_ENV !== 'production' : config.DOCS_ENABLED === 'true',
  });
}

function productionProblems(env: NodeJS.ProcessEnv): string[] {
  const partner = env.SMILE_PARTNER_ID?.trim()
    ? []
    : ['SMILE_PARTNER_ID must be set when NODE_ENV=production'];
  // A process that serves callbacks must not be open to the internet by omission; `any` is a decision.
  const servesCallbacks = env.ROLE?.trim() !== 'worker';
  const sourcesGiven = (env.CALLBACK_ALLOWED_CIDRS ?? '').split(',').some((item) => item.trim() !== '');
  const sources =
    servesCallbacks && !sourcesGiven
      ? [
          `CALLBACK_ALLOWED_CIDRS must be set when NODE_ENV=production: Smile ID's source addresses, ` +
            `or \`${ANY_SOURCE}\` to accept callbacks from every address`,
        ]
      : [];
  return [...partner, ...sources].concat(
    Object.entries(DEVELOPMENT_SECRETS).flatMap(([name, developmentValue]) => {
      const value = env[name]?.trim();
      if (!value) return [`${name} must be set when NODE_ENV=production`];
      if (value.split(',').some((item) => item.trim() === developmentValue)) {
        return [`${name} holds a development default, which NODE_ENV=production refuses`];
      }
      return [];
    }),
  );
}

/** Treats `NAME=` like an unset variable, so .env files can list every name. */
function withoutEmptyValues(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== '',
    ),
  );
}
