import { once } from 'node:events';
import { describe, expect, inject, it } from 'vitest';
import { spawnService } from '../helpers/processes.js';

/** A bucket on AWS itself (no endpoint), with no region anywhere the AWS SDK could find one. */
const NO_REGION = {
  OBJECT_STORE_BUCKET: 'photos-without-a-region',
  AWS_ACCESS_KEY_ID: 'key',
  AWS_SECRET_ACCESS_KEY: 'secret',
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe("the object store's commands, with no region to be found", () => {
  for (const command of ['src/cli/move-out.ts', 'src/cli/reencrypt.ts'] as const) {
    it(`${command} stops before touching a row, saying to set AWS_REGION`, async () => {
      const run = spawnService({ ...NO_REGION, DATABASE_URL: inject('databaseUrl') }, command);
      const [code] = await once(run.child, 'exit');
      expect(code, run.output()).toBe(1);
      expect(run.output()).toMatch(
        /the object store's region is unknown: AWS_REGION is not set .*; set AWS_REGION to the region of OBJECT_STORE_BUCKET/,
      );
      expect(run.output()).not.toMatch(/moving photos out|re-encryption failed/);
    });
  }
});
