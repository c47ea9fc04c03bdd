import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { type Config, configWarnings } from './config.js';
import { createDependencies } from './deps.js';
import { prepareDatabase } from './store/migrate.js';
import { objectStoreOf } from './store/objects/object-storage.js';
import { regionOf } from './store/objects/object-store.js';
import { withTimeout } from './util/with-timeout.js';

/** Of SHUTDOWN_TIMEOUT_MS, at most this much is kept for closing connections after a drain that hangs. */
const FORCE_CLOSE_RESERVE_MS = 2000;

/**
 * The service, whichever entry point starts it (main.ts in production, dev.ts for `npm start`):
 * migrations → dependencies → app → listen, and a graceful shutdown on SIGTERM or SIGINT that ends
 * with `afterClose`.
 */
export async function run(
  config: Config,
  logger: Logger,
  { afterClose }: { afterClose?: () => Promise<void> } = {},
): Promise<void> {
  for (const warning of configWarnings(config)) logger.warn(warning);
  if (
    config.NODE_ENV === 'production' &&
    config.ROLE !== 'worker' &&
    config.CALLBACK_ALLOWED_CIDRS.length === 0
  ) {
    logger.warn(
      "CALLBACK_ALLOWED_CIDRS=any: callbacks are accepted from every source address; list Smile ID's instead",
    );
  }

  const objectStore = objectStoreOf(config);
  // A bucket whose region neither AWS_REGION nor the SDK's lookup gives stops the start, saying so,
  // rather than every photo at its first call.
  if (objectStore) await regionOf(objectStore);
  await prepareDatabase(config.DATABASE_URL, logger);

  const deps = createDependencies(config, logger);
  const app = await buildApp({ config, logger, ...deps.forApp });
  await app.listen({ port: config.PORT, host: config.HOST });
  deps.worker?.start();
  logger.info(
    {
      role: config.ROLE,
      smileApi: config.SMILE_API_BASE_URL,
      photos: objectStore ? `s3://${objectStore.bucket}/${objectStore.prefix}` : 'kept whole in Postgres',
    },
    'service started',
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // Part of the budget is kept back, so that even a drain that hangs ends with connections closed.
    const reserveMs = Math.min(FORCE_CLOSE_RESERVE_MS, Math.floor(config.SHUTDOWN_TIMEOUT_MS / 4));
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timed out'>((resolve) => {
      timer = setTimeout(resolve, config.SHUTDOWN_TIMEOUT_MS - reserveMs, 'timed out');
    });
    // Stop accepting, end long-held requests, let in-flight ones answer, drain workers, then close
    // connections (app.close() then deps.close(), in that order), and last what the entry point started
    // around the service (in development, the simulated Smile ID they may still call).
    const drained = (async () => {
      await app.close();
      await deps.close();
      await afterClose?.();
      return 'stopped' as const;
    })();
    const outcome = await Promise.race([drained, deadline]).catch((error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      return 'failed' as const;
    });
    clearTimeout(timer);
    if (outcome === 'stopped') {
      logger.info('stopped');
      process.exit(0);
    }
    logger.error(`shutdown ${outcome}; closing connections and exiting`);
    app.server.closeAllConnections();
    await withTimeout(deps.forceClose(), reserveMs, 'closing connections').then(
      () => logger.info('connections to Postgres and Redis closed'),
      (error: unknown) => logger.error({ err: error }, 'connections could not all be closed'),
    );
    process.exit(1);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/** How an entry point ends when the service could not start: one plain line, no stack. */
export function failedToStart(error: unknown): never {
  process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
