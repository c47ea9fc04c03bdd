import { type ObjectStoreSettings, regionOf } from '../store/objects/object-store.js';

/**
 * Stops a command that is to call the object store when its region cannot be found, saying what to set,
 * as the service's own start does, before it has touched a row: not at its first call with the SDK's words.
 */
export async function exitUnlessRegionKnown(settings: ObjectStoreSettings | null): Promise<void> {
  if (settings === null) return;
  try {
    await regionOf(settings);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    process.exit(1);
  }
}
