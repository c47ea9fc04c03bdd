import { pino } from 'pino';
import { loadEntryPointConfig } from './config.js';
import { startEmbeddedObjectStore } from './local-s3/embedded.js';
import { loggerOptions } from './observability/logger.js';
import { failedToStart, run } from './run.js';
import { startSimulatedSmileId } from './simulated-smile-id.js';

/**
 * The development entry point (`npm start`): out of the box, with no bucket configured, photos go to an
 * S3-compatible store embedded in the process, and with the default keys and no Smile ID base URL, Smile
 * ID is played by the simulator inside the process; then the service runs as main.ts runs it, and both
 * close after it. The first log lines say which of them run.
 */
async function startDevelopment() {
  const loaded = loadEntryPointConfig();
  const logger = pino(loggerOptions(loaded.LOG_LEVEL));
  const embedded = loaded.OBJECT_STORE_EMBEDDED ? await startEmbeddedObjectStore(loaded, logger) : undefined;
  const withStore = embedded?.config ?? loaded;
  const simulated = withStore.SMILE_API_SIMULATED
    ? await startSimulatedSmileId(withStore, logger)
    : undefined;
  await run(simulated?.config ?? withStore, logger, {
    afterClose: async () => {
      await simulated?.close();
      await embedded?.close();
    },
  });
}

startDevelopment().catch(failedToStart);
