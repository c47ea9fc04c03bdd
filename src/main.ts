import { pino } from 'pino';
import { loadEntryPointConfig } from './config.js';
import { loggerOptions } from './observability/logger.js';
import { failedToStart, run } from './run.js';

/**
 * The production entry point (`node dist/main.js`, the Docker image): configuration → the service.
 * Nothing of development is imported here; `npm start` runs dev.ts, which may play Smile ID first.
 */
async function main() {
  const config = loadEntryPointConfig();
  const logger = pino(loggerOptions(config.LOG_LEVEL));
  if (config.SMILE_API_SIMULATED) {
    logger.warn(
      `Smile ID is not simulated by this entry point: calls go to ${config.SMILE_API_BASE_URL} with the development keys; ` +
        'run `npm start` to have it simulated, or set SMILE_API_BASE_URL and SMILE_API_KEYS',
    );
  }
  if (config.OBJECT_STORE_EMBEDDED) {
    logger.warn(
      'photos are kept whole in Postgres: this entry point embeds no object store; run `npm start` to have ' +
        'one embedded, or set OBJECT_STORE_BUCKET (or OBJECT_STORE_INLINE=true to keep them in Postgres on purpose)',
    );
  }
  await run(config, logger);
}

main().catch(failedToStart);
