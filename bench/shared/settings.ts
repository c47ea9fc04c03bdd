import { z } from 'zod';

/**
 * Bench settings, parsed once from the environment. Every bench shares the infrastructure settings
 * below; each adds its own (durations are in seconds).
 */
export const commonSettings = {
  /** A maintenance connection to the Postgres under test; the bench database is created beside it. */
  BENCH_POSTGRES_URL: z.url().default('postgresql://postgres@127.0.0.1:5432/postgres'),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  /** Reuse dist/ as it is, e.g. while src/ is mid-edit; by default the service is rebuilt first. */
  BENCH_SKIP_BUILD: z.enum(['0', '1']).default('0'),
};

/** A database the bench may drop: a plain identifier, so it can never name something else. */
export const benchDatabaseName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]*$/, 'must be a plain lower-case identifier');

/** Parses `env` with a bench's schema, listing every problem at once. */
export function parseSettings<T>(schema: z.ZodType<T>, env: NodeJS.ProcessEnv): T {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  - ${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`invalid bench settings:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

/** Credentials shared by the bench (which signs) and the service (which verifies). */
export const SMILE_CREDENTIALS = { partnerId: '2048', apiKey: 'bench-smile-api-key' } as const;

/** The service under test gets the same key as a bench's seed, so it opens what the seed sealed. */
export const BENCH_DATA_ENCRYPTION_KEYS = `bench:${Buffer.alloc(32, 7).toString('base64')}`;

/** Both servers get the same pool size, so the comparison is about the work per request. */
export const DATABASE_POOL_SIZE = 10;

/** The service's default CALLBACK_MAX_BYTES; the baseline accepts the same bodies. */
export const BODY_LIMIT_BYTES = 4 * 1024 * 1024;

export type CallbackKind = 'result' | 'id-info';
