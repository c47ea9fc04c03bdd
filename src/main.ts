import { existsSync } from 'node:fs';
import { pino } from 'pino';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { ensureDatabase, migrate } from './db/migrate.js';
import { createDependencies } from './deps.js';
import { loggerOptions } from './observability/logger.js';

/** The entry point: config → migrations → dependencies → app → listen, and a graceful shutdown. */
async function main() {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const config = loadConfig();
  const logger = pino(loggerOptions(config.LOG_LEVEL));
  if (
    config.NODE_ENV === 'production' &&
    config.ROLE !== 'worker' &&
    config.CALLBACK_ALLOWED_CIDRS.length === 0
  ) {
    logger.warn(
      "CALLBACK_ALLOWED_CIDRS=any: callbacks are accepted from every source address; list Smile ID's instead",
    );
  }

  await ensureDatabase(config.DATABASE_URL, logger);
  await migrate(config.DATABASE_URL, logger);

  const deps = createDependencies(config, logger);
  const app = await buildApp({ config, logger, ...deps.forApp });
  await app.listen({ port: config.PORT, host: config.HOST });
  deps.reconciler?.start();
  logger.info({ role: config.ROLE, smileApi: config.SMILE_API_BASE_URL }, 'service started');

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const deadline = setTimeout(() => {
      logger.error('shutdown timed out; exiting');
      process.exit(1);
    }, config.SHUTDOWN_TIMEOUT_MS);
    deadline.unref();
    // Stop accepting, let in-flight callbacks commit and answer, drain workers, then close connections.
    await app.close();
    await deps.close();
    logger.info('stopped');
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
