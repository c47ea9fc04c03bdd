import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from './config.js';

/**
 * Out of the box, `npm start` in development has no Smile ID it could reach (no base URL, development
 * keys), so the Smile ID simulator plays it inside the process. The simulator is left out of the
 * production build, so it is loaded from its TypeScript source through tsx, a development dependency,
 * by a path computed at run time that tsc does not follow into the build.
 */

/** dist/ (npm start) and src/ (tsx, vitest) both sit one level below the project root. */
export const SIMULATOR_SOURCE = path.resolve(import.meta.dirname, '..', 'src', 'simulator', 'server.ts');

/** What is used of src/simulator/server.ts; importing its types would compile it into the build. */
export type BuildSimulator = (options: { partnerId: string; apiKey: string; logger?: FastifyBaseLogger }) => {
  app: {
    listen: (options: { port: number; host: string }) => Promise<string>;
    close: () => Promise<unknown>;
  };
};

export interface SimulatedSmileId {
  /** The configuration with SMILE_API_BASE_URL pointing at the simulator. */
  config: Config;
  /** Closes the simulator's listener; after the app, which still calls it while it drains. */
  close: () => Promise<void>;
}

const SET_A_BASE_URL =
  'set SMILE_API_BASE_URL (to Smile ID, or to `npm run simulator`) or real SMILE_API_KEYS to reach Smile ID';

/** Starts the simulator on an ephemeral port of 127.0.0.1 and points the configuration at it. */
export async function startSimulatedSmileId(
  config: Config,
  log: FastifyBaseLogger,
  load: () => Promise<BuildSimulator> = loadSimulator,
): Promise<SimulatedSmileId> {
  // loadConfig never sets SMILE_API_SIMULATED in production; a second lock costs one line.
  if (config.NODE_ENV === 'production' || !config.SMILE_API_SIMULATED) {
    throw new Error(
      'Smile ID is simulated only in development, with no SMILE_API_BASE_URL and the default keys',
    );
  }
  const buildSimulator = await load();
  const { app } = buildSimulator({
    partnerId: config.SMILE_PARTNER_ID,
    apiKey: config.SMILE_API_KEYS[0]!,
    logger: log.child({ component: 'smile-id-simulator' }, { level: 'warn' }),
  });
  const baseUrl = `${await app.listen({ port: 0, host: '127.0.0.1' })}/v1`;
  log.warn(`Smile ID is simulated in this process at ${baseUrl}; ${SET_A_BASE_URL}`);
  return {
    config: Object.freeze({ ...config, SMILE_API_BASE_URL: baseUrl }),
    close: async () => {
      await app.close();
    },
  };
}

/** The simulator's factory, from source; fails with what the operator can do instead. */
export async function loadSimulator(source = SIMULATOR_SOURCE): Promise<BuildSimulator> {
  let loaded: { buildSimulator?: unknown };
  try {
    const { tsImport } = await import('tsx/esm/api');
    loaded = await tsImport(pathToFileURL(source).href, import.meta.url);
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(
      `Smile ID would be simulated in this process, but the simulator could not be loaded from ${source} ` +
        `(${reason}); it needs the development dependencies (npm ci). Or ${SET_A_BASE_URL}.`,
    );
  }
  if (typeof loaded.buildSimulator !== 'function') {
    throw new Error(`${source} exports no buildSimulator; ${SET_A_BASE_URL}`);
  }
  return loaded.buildSimulator as BuildSimulator;
}
