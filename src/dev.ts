import { pino } from 'pino';
import { loadEntryPointConfig } from './config.js';
import { loggerOptions } from './observability/logger.js';
import { failedToStart, run } from './run.js';
import { startSimulatedSmileId } from './simulated-smile-id.js';

/**
 * The development entry point (`npm start`): out of the box, with the default keys and no Smile ID base
 * URL, Smile ID is played by the simulator inside the process, then the service runs as main.ts runs it,
 * and the simulator closes after it.
 */
async function startDevelopment() {
  const loaded = loadEntryPointConfig();
  const logger = pino(loggerOptions(loaded.LOG_LEVEL));
  const simulated = loaded.SMILE_API_SIMULATED ? await startSimulatedSmileId(loaded, logger) : undefined;
  await run(simulated?.config ?? loaded, logger, { afterClose: simulated?.close });
}

startDevelopment().catch(failedToStart);
