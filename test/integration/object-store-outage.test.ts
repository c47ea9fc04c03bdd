import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVELOPMENT_SECRETS } from '../../src/config.js';
import { startLocalS3 } from '../../src/local-s3/server.js';
import { createBodyMover, createOrphanSweeper } from '../../src/maintenance/object-storage.js';
import { createFieldCipher, parseKeyring } from '../../src/security/field-cipher.js';
import { idInfoCallback, simulatedJob } from '../../src/simulator/callbacks.js';
import { createObjectStorage } from '../../src/store/objects/object-storage.js';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.js';
import { capturingLogger } from '../helpers/logs.js';
import { TEST_BUCKET, testObjectStoreSettings } from '../helpers/object-store-settings.js';
import { freePort } from '../helpers/processes.js';
import { eventually } from '../helpers/service.js';

/**
 * An outage of the object store as its operator reads it: one line when it starts, one when it ends,
 * however many callbacks, move-out runs and orphan sweeps meet it in between.
 */
describe('an outage of the object store', () => {
  let scratch: ScratchDatabase;
  let pool: pg.Pool;
  let directory: string;

  beforeAll(async () => {
    scratch = await createScratchDatabase();
    pool = new pg.Pool({ connectionString: scratch.url, max: 2 });
    directory = await mkdtemp(path.join(os.tmpdir(), 'smileid-outage-objects-'));
  });
  afterAll(async () => {
    await pool?.end();
    await scratch?.drop();
    await rm(directory, { recursive: true, force: true });
  });

  it('is said once when it starts and once when it ends, with where, which variable and what to try', async () => {
    const port = await freePort();
    const { logger, logs } = capturingLogger('info');
    const lines = () =>
      logs()
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    const settings = { ...testObjectStoreSettings(`http://127.0.0.1:${port}`, 'outage/'), timeoutMs: 300 };
    const storage = createObjectStorage({
      settings,
      cipher: createFieldCipher(parseKeyring([DEVELOPMENT_SECRETS.DATA_ENCRYPTION_KEYS])),
      pool,
      log: logger,
      orphanGraceMs: 60_000,
    });
    const moveOut = createBodyMover({ inlineBodies: storage.inlineBodies!, store: storage.objects! });
    const sweepOrphans = createOrphanSweeper({ sweep: storage.sweepOrphans! });
    try {
      const raw = Buffer.from(JSON.stringify(idInfoCallback(simulatedJob(), { photoBytes: 20_000 })));
      const stashed = await storage.vault.stash(
        { table: 'callback_events', id: crypto.randomUUID() },
        raw,
        'callback',
      );
      expect(stashed.objects).toBeNull();
      for (let run = 0; run < 3; run += 1) {
        expect(await moveOut(logger)).toEqual({ moved: 0, objects: 0 });
        expect(await sweepOrphans(logger)).toMatchObject({ removed: 0 });
      }
      expect(storage.objects!.down).toBe(true);
      expect(lines().filter((line) => (line.level as number) >= 40)).toEqual([
        expect.objectContaining({
          level: 50,
          dependency: 'object store',
          address: `127.0.0.1:${port}/${TEST_BUCKET}`,
          variable: 'AWS_ENDPOINT_URL_S3',
          msg: expect.stringMatching(
            new RegExp(
              `^Object store at 127\\.0\\.0\\.1:${port}/${TEST_BUCKET} is unreachable \\(object store put failed: .*\\); ` +
                'bodies are kept whole in Postgres and moved out once it answers: start it',
            ),
          ),
        }),
      ]);

      // Back: the next move-out run asks the bucket whether it is, and says so.
      const server = await startLocalS3({ directory, port });
      try {
        await storage.objects!.ensureBucket();
        await moveOut(logger);
        // Its return is said once answered calls have held for a look (a second).
        expect(await eventually(async () => !storage.objects!.down, 5000)).toBe(true);
        const back = lines().filter((line) => String(line.msg).includes('reachable again'));
        expect(back).toEqual([
          expect.objectContaining({
            level: 30,
            msg: expect.stringMatching(
              new RegExp(
                `^Object store at 127\\.0\\.0\\.1:${port}/${TEST_BUCKET} is reachable again after \\d+ s$`,
              ),
            ),
          }),
        ]);
        expect(logs()).not.toContain('secretAccessKey');
      } finally {
        await server.close();
      }
    } finally {
      storage.close();
    }
  });

  it('says that objects it could not remove are left to the orphan sweep, once while the outage lasts', async () => {
    const { logger, logs } = capturingLogger('info');
    const storage = createObjectStorage({
      settings: {
        ...testObjectStoreSettings(`http://127.0.0.1:${await freePort()}`, 'outage/'),
        timeoutMs: 300,
      },
      cipher: createFieldCipher(parseKeyring([DEVELOPMENT_SECRETS.DATA_ENCRYPTION_KEYS])),
      pool,
      log: logger,
      orphanGraceMs: 60_000,
    });
    try {
      for (let duplicate = 0; duplicate < 3; duplicate += 1) {
        await storage.vault.discard([`callback_events/${crypto.randomUUID()}/0`]);
      }
      const said = logs().match(/could not be removed now: the orphan sweep removes them/g) ?? [];
      expect(said).toHaveLength(1);
      expect(logs()).toMatch(/Object store at .* is unreachable \(object store delete failed/);
    } finally {
      storage.close();
    }
  });
});
