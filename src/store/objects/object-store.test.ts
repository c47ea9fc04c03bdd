import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type ObjectCallResult,
  type ObjectStoreSettings,
  ObjectStoreUnavailableError,
  regionOf,
  s3ClientOf,
  timedCall,
} from './object-store.js';

const settings = (overrides: Partial<ObjectStoreSettings> = {}): ObjectStoreSettings => ({
  bucket: 'photos',
  prefix: '',
  forcePathStyle: false,
  region: undefined,
  endpoint: undefined,
  credentials: undefined,
  timeoutMs: 1000,
  ...overrides,
});

/** The variables by which the AWS SDK could find a region on this machine: none, for these tests. */
const SDK_REGION_SOURCES = {
  AWS_REGION: undefined,
  AWS_PROFILE: undefined,
  AWS_CONFIG_FILE: '/nonexistent/aws-config',
  AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/aws-credentials',
  AWS_EC2_METADATA_DISABLED: 'true',
};

describe("the object store's region", () => {
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const [name, value] of Object.entries(SDK_REGION_SOURCES)) {
      saved[name] = process.env[name];
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });

  it('is AWS_REGION when it is set', async () => {
    expect(await regionOf(settings({ region: 'eu-west-1' }))).toBe('eu-west-1');
  });

  it("is the SDK's to find when AWS_REGION is unset: its own variable, a profile, instance metadata", async () => {
    process.env.AWS_REGION = 'af-south-1';
    expect(await regionOf(settings())).toBe('af-south-1');
  });

  it('is us-east-1 for an S3-compatible server at AWS_ENDPOINT_URL_S3 when nothing else gives one', async () => {
    expect(await regionOf(settings({ endpoint: 'http://127.0.0.1:9000' }))).toBe('us-east-1');
  });

  it('stops a start that finds none with a sentence that says what to set, not at the first photo', async () => {
    await expect(regionOf(settings())).rejects.toThrow(
      /^the object store's region is unknown: AWS_REGION is not set and the AWS SDK found none \(Region is missing\); set AWS_REGION/,
    );
  });
});

describe('the S3 client', () => {
  it('signs requests without the SHA-256 of their payload: the parts are sealed already', () => {
    const client = s3ClientOf(settings({ region: 'eu-west-1' }));
    try {
      expect(client.middlewareStack.identify()).toContainEqual(expect.stringMatching(/^unsignedPayload /));
    } finally {
      client.destroy();
    }
  });
});

describe('a call to the object store', () => {
  function listeners() {
    const heard: string[] = [];
    return {
      heard,
      observer: {
        called: (operation: string, result: ObjectCallResult) => heard.push(`${operation} ${result}`),
        keptInline: () => undefined,
      },
      outages: {
        unanswered: (error: Error) => heard.push(`unanswered: ${error.message}`),
        answered: () => heard.push('answered'),
        down: false,
      },
    };
  }

  it('is counted and tells the outage reporter the store answered', async () => {
    const { heard, ...rest } = listeners();
    expect(await timedCall('get', { ...rest, timeoutMs: 1000 }, async () => 'photo')).toBe('photo');
    expect(heard).toEqual(['get ok', 'answered']);
  });

  it('that gets no answer is the store being unavailable, and tells the outage reporter so', async () => {
    const { heard, ...rest } = listeners();
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9000'), { code: 'ECONNREFUSED' });
    await expect(
      timedCall('put', { ...rest, timeoutMs: 1000 }, async () => Promise.reject(refused)),
    ).rejects.toBeInstanceOf(ObjectStoreUnavailableError);
    expect(heard).toEqual([
      'put unavailable',
      'unanswered: object store put failed: connect ECONNREFUSED 127.0.0.1:9000',
    ]);
  });

  it('that fails otherwise is thrown as it is, counted as an error, and is no outage', async () => {
    const { heard, ...rest } = listeners();
    const bug = new TypeError('not a buffer');
    await expect(
      timedCall('put', { ...rest, timeoutMs: 1000 }, async () => Promise.reject(bug)),
    ).rejects.toBe(bug);
    expect(heard).toEqual(['put error']);
  });
});
