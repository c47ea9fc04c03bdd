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
  await run(config, logger);
}

main().catch(failedToStart);
