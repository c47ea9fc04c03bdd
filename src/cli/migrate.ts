import { pino } from 'pino';
import { loadEntryPointConfig } from '../config.js';
import { loggerOptions } from '../observability/logger.js';
import { ensureDatabase, migrate } from '../store/migrate.js';

/** `npm run db:migrate`: creates the database if needed, applies pending migrations, exits. */
const config = loadEntryPointConfig();
const logger = pino(loggerOptions(config.LOG_LEVEL));
try {
  await ensureDatabase(config.DATABASE_URL, logger);
  const applied = await migrate(config.DATABASE_URL, logger);
  logger.info(
    { applied: applied.length },
    applied.length > 0 ? 'migrations applied' : 'database is up to date',
  );
} catch (error) {
  logger.error({ err: error }, 'migration failed');
  process.exitCode = 1;
}
