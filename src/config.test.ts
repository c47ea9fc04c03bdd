import { describe, expect, it } from 'vitest';
import { ConfigError, configWarnings, DEVELOPMENT_SECRETS, loadConfig } from './config.js';
import { objectStoreOf } from './store/objects/object-storage.js';

/** Every variable production insists on. */
const REQUIRED_IN_PRODUCTION = ['SMILE_PARTNER_ID', ...Object.keys(DEVELOPMENT_SECRETS)];

const PRODUCTION_SECRETS = {
  SMILE_PARTNER_ID: '4242',
  SMILE_API_KEYS: 'live-key-1',
  INTERNAL_API_TOKENS: 'live-token-1',
  INTERNAL_PII_TOKENS: 'live-pii-token-1',
  INTERNAL_ADMIN_TOKENS: 'live-admin-token-1',
  INTERNAL_REVIEW_TOKENS: 'live-review-token-1',
  DATA_ENCRYPTION_KEYS: `live-1:${Buffer.alloc(32, 7).toString('base64')}`,
  CALLBACK_ALLOWED_CIDRS: '34.240.137.52,44.230.128.108,52.36.32.43,52.213.46.74',
  OBJECT_STORE_BUCKET: 'acme-smileid-photos',
} as const;

const NO_PHOTO_STORE_PROBLEM =
  'OBJECT_STORE_BUCKET must be set when NODE_ENV=production (the S3 bucket for photos), or ' +
  'OBJECT_STORE_INLINE=true to keep them in Postgres (small deployments only)';

const OPEN_DOOR_PROBLEM =
  "CALLBACK_ALLOWED_CIDRS must be set when NODE_ENV=production: Smile ID's source addresses, " +
  'or `any` to accept callbacks from every address';

/** The ConfigError that `env` provokes; fails the test if loading succeeds. */
function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

describe('loadConfig defaults', () => {
  it('runs locally with no environment at all', () => {
    expect(loadConfig({})).toMatchObject({
      NODE_ENV: 'development',
      PORT: 3000,
      HOST: '0.0.0.0',
      ROLE: 'all',
      LOG_LEVEL: 'info',
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:5432/smileid_callbacks',
      DATABASE_POOL_SIZE: 10,
      DATABASE_TIMEOUT_MS: 5000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SMILE_PARTNER_ID: '085',
      SMILE_API_KEYS: [DEVELOPMENT_SECRETS.SMILE_API_KEYS],
      SMILE_ENV: 'sandbox',
      SMILE_API_BASE_URL: 'https://testapi.smileidentity.com/v1',
      INTERNAL_API_TOKENS: [DEVELOPMENT_SECRETS.INTERNAL_API_TOKENS],
      INTERNAL_PII_TOKENS: [DEVELOPMENT_SECRETS.INTERNAL_PII_TOKENS],
      INTERNAL_ADMIN_TOKENS: [DEVELOPMENT_SECRETS.INTERNAL_ADMIN_TOKENS],
      INTERNAL_REVIEW_TOKENS: [DEVELOPMENT_SECRETS.INTERNAL_REVIEW_TOKENS],
      REVIEW_SLA_HOURS: 24,
      CALLBACK_MAX_BYTES: 4 * 1024 * 1024,
      CALLBACK_TIMESTAMP_TOLERANCE_SECONDS: 900,
      CALLBACK_ALLOWED_CIDRS: [],
      CALLBACK_RATE_LIMIT_PER_MINUTE: 6000,
      API_RATE_LIMIT_PER_MINUTE: 6000,
      TRUST_PROXY: false,
      SHUTDOWN_TIMEOUT_MS: 15000,
    });
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadConfig({}))).toBe(true);
  });

  it('treats a variable set to the empty string as unset', () => {
    const config = loadConfig({ PORT: '', SMILE_API_KEYS: '', LOG_LEVEL: '' });
    expect(config.PORT).toBe(3000);
    expect(config.SMILE_API_KEYS).toEqual([DEVELOPMENT_SECRETS.SMILE_API_KEYS]);
    expect(config.LOG_LEVEL).toBe('info');
  });

  it('ignores variables it does not know', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' })).not.toHaveProperty('PATH');
  });
});

describe('loadConfig values', () => {
  it('reads numbers from their text', () => {
    const config = loadConfig({ PORT: '8080', DATABASE_POOL_SIZE: '25', CALLBACK_MAX_BYTES: '1048576' });
    expect(config).toMatchObject({ PORT: 8080, DATABASE_POOL_SIZE: 25, CALLBACK_MAX_BYTES: 1_048_576 });
  });

  it('uses the production Smile ID URL when SMILE_ENV is production', () => {
    expect(loadConfig({ SMILE_ENV: 'production' }).SMILE_API_BASE_URL).toBe(
      'https://api.smileidentity.com/v1',
    );
  });

  it('lets SMILE_API_BASE_URL override the URL, without trailing slashes', () => {
    expect(loadConfig({ SMILE_API_BASE_URL: 'http://127.0.0.1:4010/v1//' }).SMILE_API_BASE_URL).toBe(
      'http://127.0.0.1:4010/v1',
    );
  });
});

describe('loadConfig comma lists', () => {
  it('splits, trims and drops empty items', () => {
    const config = loadConfig({
      SMILE_API_KEYS: ' new-key , old-key,,',
      INTERNAL_API_TOKENS: 'a,b',
      INTERNAL_PII_TOKENS: 'p1, p2',
      CALLBACK_ALLOWED_CIDRS: '34.240.137.52, 44.230.128.108/32 ,10.0.0.0/8',
    });
    expect(config.SMILE_API_KEYS).toEqual(['new-key', 'old-key']);
    expect(config.INTERNAL_API_TOKENS).toEqual(['a', 'b']);
    expect(config.INTERNAL_PII_TOKENS).toEqual(['p1', 'p2']);
    expect(config.CALLBACK_ALLOWED_CIDRS).toEqual(['34.240.137.52', '44.230.128.108/32', '10.0.0.0/8']);
  });

  it.each(['development', 'test', 'production'])(
    'reads CALLBACK_ALLOWED_CIDRS=any as every source with NODE_ENV=%s',
    (NODE_ENV) => {
      const secrets = NODE_ENV === 'production' ? PRODUCTION_SECRETS : {};
      for (const value of ['any', ' ANY ', 'Any,']) {
        expect(
          loadConfig({ NODE_ENV, ...secrets, CALLBACK_ALLOWED_CIDRS: value }).CALLBACK_ALLOWED_CIDRS,
        ).toEqual([]);
      }
    },
  );

  it.each([
    ['any,10.0.0.0/8', '`any` cannot be combined with addresses'],
    ['10.0.0.0/8,smile-id.example', 'needs IP addresses or CIDRs, or `any`'],
    ['10.0.0.0/33', 'needs IP addresses or CIDRs, or `any`'],
    ['10.0.0.0/8/1', 'needs IP addresses or CIDRs, or `any`'],
    ['*', 'needs IP addresses or CIDRs, or `any`'],
  ])('refuses CALLBACK_ALLOWED_CIDRS=%j', (value, problem) => {
    expect(configError({ CALLBACK_ALLOWED_CIDRS: value }).problems).toEqual([
      `CALLBACK_ALLOWED_CIDRS: ${problem}`,
    ]);
  });

  it('accepts IPv6 addresses and CIDRs in CALLBACK_ALLOWED_CIDRS', () => {
    expect(loadConfig({ CALLBACK_ALLOWED_CIDRS: '2001:db8::/32,::1' }).CALLBACK_ALLOWED_CIDRS).toEqual([
      '2001:db8::/32',
      '::1',
    ]);
  });

  it('keeps the order of the API keys, newest first, as rotation needs', () => {
    expect(loadConfig({ SMILE_API_KEYS: 'newest,older,oldest' }).SMILE_API_KEYS).toEqual([
      'newest',
      'older',
      'oldest',
    ]);
  });

  it('allows an empty list of PII tokens, so nobody may read PII', () => {
    expect(loadConfig({ INTERNAL_PII_TOKENS: ' , ' }).INTERNAL_PII_TOKENS).toEqual([]);
  });

  it.each([
    ['SMILE_API_KEYS', 'API key'],
    ['INTERNAL_API_TOKENS', 'token'],
  ])('refuses a %s list with nothing in it', (name, what) => {
    const error = configError({ [name]: ' , ,' });
    expect(error.problems).toEqual([`${name}: needs at least one ${what}`]);
  });

  it.each([
    ['true', true],
    ['false', false],
    ['10.0.0.1', ['10.0.0.1']],
    ['10.0.0.1, 10.1.0.0/16', ['10.0.0.1', '10.1.0.0/16']],
    ['10.0.0.1,', ['10.0.0.1']],
  ])('reads TRUST_PROXY=%j as %j', (value, expected) => {
    expect(loadConfig({ TRUST_PROXY: value }).TRUST_PROXY).toEqual(expected);
  });
});

describe('loadConfig invalid values', () => {
  it('lists every problem at once, each naming its variable', () => {
    const error = configError({
      PORT: 'eighty',
      LOG_LEVEL: 'loud',
      DATABASE_URL: 'not a url',
      ROLE: 'everything',
      DATABASE_POOL_SIZE: '0',
      SMILE_ENV: 'staging',
    });
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.name).toBe('ConfigError');
    const named = error.problems.map((problem) => problem.split(':')[0]);
    expect(named.sort()).toEqual(
      ['DATABASE_POOL_SIZE', 'DATABASE_URL', 'LOG_LEVEL', 'PORT', 'ROLE', 'SMILE_ENV'].sort(),
    );
    for (const problem of error.problems) expect(error.message).toContain(problem);
    expect(error.message).toMatch(/^Invalid configuration:\n {2}- /);
  });

  it.each([
    ['PORT', '70000'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_TIMEOUT_MS', '0'],
    ['CALLBACK_TIMESTAMP_TOLERANCE_SECONDS', '-900'],
    ['SHUTDOWN_TIMEOUT_MS', 'soon'],
    ['REDIS_URL', '//redis:6379'],
    ['SMILE_API_BASE_URL', 'api.smileidentity.com'],
    ['NODE_ENV', 'prod'],
  ])('refuses %s=%j and says which variable is wrong', (name, value) => {
    const error = configError({ [name]: value });
    expect(error.problems).toHaveLength(1);
    expect(error.problems[0]).toMatch(new RegExp(`^${name}: `));
  });
});

describe('loadConfig in production', () => {
  it('loads when every secret is set to a real value', () => {
    const config = loadConfig({ NODE_ENV: 'production', ...PRODUCTION_SECRETS });
    expect(config).toMatchObject({
      NODE_ENV: 'production',
      SMILE_PARTNER_ID: '4242',
      SMILE_API_KEYS: ['live-key-1'],
      INTERNAL_API_TOKENS: ['live-token-1'],
      INTERNAL_PII_TOKENS: ['live-pii-token-1'],
    });
  });

  it.each(REQUIRED_IN_PRODUCTION)('refuses to start without %s, naming it', (name) => {
    const env = { NODE_ENV: 'production', ...PRODUCTION_SECRETS, [name]: undefined };
    const error = configError(env);
    expect(error.problems).toEqual([`${name} must be set when NODE_ENV=production`]);
    expect(error.message).toContain(name);
  });

  it.each(REQUIRED_IN_PRODUCTION)('refuses %s set to blanks, as if missing', (name) => {
    const error = configError({ NODE_ENV: 'production', ...PRODUCTION_SECRETS, [name]: '   ' });
    expect(error.message).toContain(`${name} must be set when NODE_ENV=production`);
  });

  it.each(Object.entries(DEVELOPMENT_SECRETS))('refuses the development default of %s', (name, value) => {
    const error = configError({ NODE_ENV: 'production', ...PRODUCTION_SECRETS, [name]: value });
    expect(error.problems).toEqual([
      `${name} holds a development default, which NODE_ENV=production refuses`,
    ]);
  });

  it('refuses a development key hidden in a list of real ones', () => {
    const error = configError({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      SMILE_API_KEYS: `live-key-1, ${DEVELOPMENT_SECRETS.SMILE_API_KEYS}`,
    });
    expect(error.message).toContain('SMILE_API_KEYS holds a development default');
  });

  it('names every missing secret and the open callback door when none is set', () => {
    const error = configError({ NODE_ENV: 'production' });
    expect(error.problems).toHaveLength(REQUIRED_IN_PRODUCTION.length + 2);
    for (const name of REQUIRED_IN_PRODUCTION) expect(error.message).toContain(name);
    expect(error.problems).toContain(OPEN_DOOR_PROBLEM);
    expect(error.problems).toContain(NO_PHOTO_STORE_PROBLEM);
  });

  it('accepts the partner id 085, which a real partner may have', () => {
    expect(
      loadConfig({ NODE_ENV: 'production', ...PRODUCTION_SECRETS, SMILE_PARTNER_ID: '085' }),
    ).toMatchObject({
      SMILE_PARTNER_ID: '085',
    });
  });

  it('reports missing secrets together with invalid values', () => {
    const error = configError({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      PORT: 'x',
      SMILE_API_KEYS: '',
    });
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('PORT: ');
    expect(error.message).toContain('SMILE_API_KEYS must be set when NODE_ENV=production');
  });

  it('refuses to start without CALLBACK_ALLOWED_CIDRS, and says how to open the door on purpose', () => {
    const error = configError({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      CALLBACK_ALLOWED_CIDRS: undefined,
    });
    expect(error.problems).toEqual([OPEN_DOOR_PROBLEM]);
  });

  it.each(['', ' , ,'])('refuses CALLBACK_ALLOWED_CIDRS=%j, which lists no address', (value) => {
    const error = configError({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      CALLBACK_ALLOWED_CIDRS: value,
    });
    expect(error.problems).toEqual([OPEN_DOOR_PROBLEM]);
  });

  it('starts with CALLBACK_ALLOWED_CIDRS=any, allowing every source', () => {
    const config = loadConfig({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      CALLBACK_ALLOWED_CIDRS: 'any',
    });
    expect(config.CALLBACK_ALLOWED_CIDRS).toEqual([]);
  });

  it('lets a worker, which serves no callbacks, start without CALLBACK_ALLOWED_CIDRS', () => {
    const env = { NODE_ENV: 'production', ...PRODUCTION_SECRETS, CALLBACK_ALLOWED_CIDRS: undefined };
    expect(loadConfig({ ...env, ROLE: 'worker' }).ROLE).toBe('worker');
    expect(configError({ ...env, ROLE: 'api' }).problems).toEqual([OPEN_DOOR_PROBLEM]);
  });

  it('accepts the development defaults outside production', () => {
    for (const NODE_ENV of ['development', 'test']) {
      expect(loadConfig({ NODE_ENV, ...DEVELOPMENT_SECRETS }).NODE_ENV).toBe(NODE_ENV);
    }
  });
});

describe('loadConfig submissions and webhooks', () => {
  const secret = `whsec_${Buffer.alloc(24, 3).toString('base64')}`;
  const rotating = `${secret}|whsec_${Buffer.alloc(24, 4).toString('base64')}`;

  it('derives the callback URL from the port outside production, and leaves it unset in production', () => {
    expect(loadConfig({ PORT: '4100' }).PUBLIC_CALLBACK_URL).toBe('http://127.0.0.1:4100/callbacks/smile-id');
    expect(loadConfig({ NODE_ENV: 'production', ...PRODUCTION_SECRETS }).PUBLIC_CALLBACK_URL).toBeNull();
    expect(
      loadConfig({ PUBLIC_CALLBACK_URL: 'https://kyc.example.com/callbacks/smile-id' }).PUBLIC_CALLBACK_URL,
    ).toBe('https://kyc.example.com/callbacks/smile-id');
  });

  it('holds by default a submission with two images at the image limit, in base64, and the rest', () => {
    const config = loadConfig({});
    const imageInBase64 = Buffer.alloc(config.SUBMISSION_MAX_IMAGE_BYTES).toString('base64').length;
    expect(config.SUBMISSION_MAX_BYTES).toBeGreaterThanOrEqual(2 * imageInBase64 + 64 * 1024);
  });

  it('refuses a body limit that cannot hold one image at the image limit', () => {
    expect(() => loadConfig({ SUBMISSION_MAX_BYTES: String(4 * 1024 * 1024) })).toThrow(
      /SUBMISSION_MAX_BYTES: must hold one image of SUBMISSION_MAX_IMAGE_BYTES \(4194304\) in base64/,
    );
    expect(loadConfig({ SUBMISSION_MAX_BYTES: String(6 * 1024 * 1024) }).SUBMISSION_MAX_BYTES).toBe(
      6 * 1024 * 1024,
    );
  });

  it('pairs each webhook URL with its secret, a rotation joined by |', () => {
    const config = loadConfig({
      NOTIFY_WEBHOOK_URLS: 'http://a.internal/hooks, https://b.internal/hooks',
      NOTIFY_WEBHOOK_SECRETS: `${secret},${rotating}`,
    });
    expect(config.NOTIFY_WEBHOOK_URLS).toEqual(['http://a.internal/hooks', 'https://b.internal/hooks']);
    expect(config.NOTIFY_WEBHOOK_SECRETS).toEqual([secret, rotating]);
  });

  it.each([
    [
      'a URL without its secret',
      { NOTIFY_WEBHOOK_URLS: 'http://a.internal/hooks' },
      /NOTIFY_WEBHOOK_SECRETS: needs one secret per URL/,
    ],
    [
      'a secret that is not whsec_',
      { NOTIFY_WEBHOOK_URLS: 'http://a.internal/hooks', NOTIFY_WEBHOOK_SECRETS: 'hunter2' },
      /NOTIFY_WEBHOOK_SECRETS/,
    ],
    [
      'a URL that is not http(s)',
      { NOTIFY_WEBHOOK_URLS: 'ftp://a.internal', NOTIFY_WEBHOOK_SECRETS: secret },
      /NOTIFY_WEBHOOK_URLS/,
    ],
    [
      'a URL listed twice',
      {
        NOTIFY_WEBHOOK_URLS: 'http://a.internal,http://a.internal',
        NOTIFY_WEBHOOK_SECRETS: `${secret},${secret}`,
      },
      /NOTIFY_WEBHOOK_URLS: lists a URL twice/,
    ],
  ])('refuses %s', (_name, env, problem) => {
    expect(() => loadConfig(env)).toThrow(problem);
  });

  describe('webhook URLs that reach the service itself, or its stores', () => {
    const webhook = (url: string, env: NodeJS.ProcessEnv = {}) => ({
      NOTIFY_WEBHOOK_URLS: url,
      NOTIFY_WEBHOOK_SECRETS: secret,
      ...env,
    });

    it.each<[string, string, Record<string, string>]>([
      ['loopback on PORT', 'http://127.0.0.1:3000/v1/jobs', {}],
      ['another loopback address on PORT', 'http://127.8.9.10:3000/', {}],
      ['localhost on PORT', 'http://LOCALHOST.:3000/hooks', {}],
      ['IPv6 loopback on PORT', 'http://[::1]:3000/hooks', {}],
      ['IPv4-mapped loopback on PORT', 'http://[::ffff:127.0.0.1]:3000/hooks', {}],
      ['the unspecified address on PORT', 'http://0.0.0.0:3000/hooks', {}],
      ['loopback on a PORT of 80, by the scheme’s port', 'http://127.0.0.1/hooks', { PORT: '80' }],
      ['HOST on PORT', 'http://10.1.2.3:8080/hooks', { HOST: '10.1.2.3', PORT: '8080' }],
    ])('refuses one at its own listener: %s', (_case, url, env) => {
      expect(configError(webhook(url, env)).problems).toEqual([
        `NOTIFY_WEBHOOK_URLS: ${new URL(url).origin} is this service's own listener (HOST, PORT ${env.PORT ?? 3000}): it would notify itself`,
      ]);
    });

    it('refuses one at the origin of PUBLIC_CALLBACK_URL, whatever its path', () => {
      const env = webhook('https://kyc.example.com/v1/hooks', {
        PUBLIC_CALLBACK_URL: 'https://kyc.example.com/callbacks/smile-id',
      });
      expect(configError(env).problems).toEqual([
        'NOTIFY_WEBHOOK_URLS: https://kyc.example.com is the origin of PUBLIC_CALLBACK_URL, this service itself: it would notify itself',
      ]);
    });

    it.each([
      ['Postgres of DATABASE_URL', 'http://127.0.0.1:5432/', {}],
      [
        'Postgres of DATABASE_URL',
        'http://db.internal:5432/',
        { DATABASE_URL: 'postgresql://u@db.internal/kyc' },
      ],
      ['Redis of REDIS_URL', 'http://localhost:6379/', {}],
    ])('refuses one at the %s: %s', (what, url, env) => {
      expect(configError(webhook(url, env)).problems).toEqual([
        `NOTIFY_WEBHOOK_URLS: ${new URL(url).origin} is the ${what}, not a webhook receiver`,
      ]);
    });

    it('lists the refusal with every other problem, and names the URL by its origin only', () => {
      const error = configError({
        NOTIFY_WEBHOOK_URLS: 'http://user:hunter2@127.0.0.1:3000/hooks?token=abc,https://ok.internal/hooks',
        NOTIFY_WEBHOOK_SECRETS: secret,
      });
      expect(error.problems).toHaveLength(2);
      expect(error.message).toContain('NOTIFY_WEBHOOK_SECRETS: needs one secret per URL');
      expect(error.message).toContain('http://127.0.0.1:3000 is this service');
      for (const hidden of ['hunter2', 'token=abc', '/hooks']) expect(error.message).not.toContain(hidden);
    });

    it('accepts loopback on another port, private addresses and names, and warns only of the host-internal ones', () => {
      const urls = [
        'http://127.0.0.1:5433/hooks',
        'http://[::1]:9000/hooks',
        'http://169.254.169.254/latest',
        'http://[fe80::1]:8080/hooks',
        'http://10.0.0.7:3000/hooks',
        'https://kyc-consumer.internal/hooks',
      ];
      const config = loadConfig({
        NOTIFY_WEBHOOK_URLS: urls.join(','),
        NOTIFY_WEBHOOK_SECRETS: urls.map(() => secret).join(','),
      });
      expect(configWarnings(config)).toEqual([
        'NOTIFY_WEBHOOK_URLS: http://127.0.0.1:5433 is a loopback address: webhooks are posted to whatever listens there, next to this service (docs/security.md#webhook-targets)',
        'NOTIFY_WEBHOOK_URLS: http://[::1]:9000 is a loopback address: webhooks are posted to whatever listens there, next to this service (docs/security.md#webhook-targets)',
        'NOTIFY_WEBHOOK_URLS: http://169.254.169.254 is a link-local address: webhooks are posted to whatever listens there, next to this service (docs/security.md#webhook-targets)',
        'NOTIFY_WEBHOOK_URLS: http://[fe80::1]:8080 is a link-local address: webhooks are posted to whatever listens there, next to this service (docs/security.md#webhook-targets)',
      ]);
      expect(configWarnings(loadConfig({}))).toEqual([]);
    });
  });

  it('never echoes a webhook secret in a configuration error', () => {
    const leaked = `whsec_${'A'.repeat(3)}`; // too short to be valid
    let message = '';
    try {
      loadConfig({ NOTIFY_WEBHOOK_URLS: 'http://a.internal/hooks', NOTIFY_WEBHOOK_SECRETS: leaked });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/NOTIFY_WEBHOOK_SECRETS/);
    expect(message).not.toContain(leaked);
  });
});

describe('SMILE_API_SIMULATED', () => {
  it('is set in development with no base URL and the development key alone', () => {
    const config = loadConfig({});
    expect(config.SMILE_API_SIMULATED).toBe(true);
    expect(config.NODE_ENV).toBe('development');
  });

  it.each([
    ['a base URL is set', { SMILE_API_BASE_URL: 'http://127.0.0.1:3900/v1' }],
    ['a real key is set', { SMILE_API_KEYS: 'live-key-1' }],
    ['a real key comes first', { SMILE_API_KEYS: `live-key-1,${DEVELOPMENT_SECRETS.SMILE_API_KEYS}` }],
    ['a real key follows', { SMILE_API_KEYS: `${DEVELOPMENT_SECRETS.SMILE_API_KEYS},live-key-1` }],
    ['NODE_ENV is test', { NODE_ENV: 'test' }],
  ])('is not set when %s', (_case, env) => {
    expect(loadConfig(env).SMILE_API_SIMULATED).toBe(false);
  });

  it('is never set in production, whatever the base URL and keys', () => {
    for (const baseUrl of [undefined, 'https://api.smileidentity.com/v1']) {
      for (const smileEnv of ['sandbox', 'production']) {
        const config = loadConfig({
          NODE_ENV: 'production',
          ...PRODUCTION_SECRETS,
          SMILE_ENV: smileEnv,
          SMILE_API_BASE_URL: baseUrl,
        });
        expect(config.SMILE_API_SIMULATED).toBe(false);
        expect(config.SMILE_API_BASE_URL).toMatch(/^https:\/\/(?:test)?api\.smileidentity\.com\/v1$/);
      }
    }
  });

  it('cannot be reached in production with the development key, which production refuses', () => {
    expect(() =>
      loadConfig({
        NODE_ENV: 'production',
        ...PRODUCTION_SECRETS,
        SMILE_API_KEYS: DEVELOPMENT_SECRETS.SMILE_API_KEYS,
      }),
    ).toThrow(ConfigError);
  });
});

describe('DECISION_POLICY_FILE', () => {
  it('decides with the default policy shipped in the repository when unset', () => {
    expect(loadConfig({}).DECISION_POLICY.version).toMatch(/^smile-id-default@[0-9a-f]{12}$/);
  });

  it('reads the policy the variable names', () => {
    const config = loadConfig({ DECISION_POLICY_FILE: 'policies/examples/strict.yaml' });
    expect(config.DECISION_POLICY.policy.name).toBe('acme-strict');
  });

  it('lists the policy’s problems, each with its path, beside the other variables’ problems', () => {
    const error = configError({ PORT: 'x', DECISION_POLICY_FILE: 'package.json' });
    expect(error.problems[0]).toMatch(/^PORT: /);
    expect(error.problems.slice(1)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DECISION_POLICY_FILE \(package\.json\): Unrecognized keys?: .*"scripts"/),
        expect.stringMatching(/^DECISION_POLICY_FILE \(package\.json\): rules: /),
      ]),
    );
  });

  it('refuses a file that cannot be read', () => {
    expect(configError({ DECISION_POLICY_FILE: 'policies/none.yaml' }).problems).toEqual([
      'DECISION_POLICY_FILE (policies/none.yaml): cannot be read (ENOENT)',
    ]);
  });
});

describe('the object store section', () => {
  it('refuses production without a bucket, unless photos are kept in Postgres on purpose', () => {
    const error = configError({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      OBJECT_STORE_BUCKET: undefined,
    });
    expect(error.problems).toEqual([NO_PHOTO_STORE_PROBLEM]);
    const inline = loadConfig({
      NODE_ENV: 'production',
      ...PRODUCTION_SECRETS,
      OBJECT_STORE_BUCKET: undefined,
      OBJECT_STORE_INLINE: 'true',
    });
    expect(inline).toMatchObject({ OBJECT_STORE_INLINE: true, OBJECT_STORE_EMBEDDED: false });
    expect(objectStoreOf(inline)).toBeNull();
  });

  it("passes the bucket, prefix, path style and the AWS SDK's own variables on to the client, explicitly", () => {
    const config = loadConfig({
      OBJECT_STORE_BUCKET: 'photos',
      OBJECT_STORE_PREFIX: 'smileid/',
      OBJECT_STORE_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_ENDPOINT_URL_S3: 'http://minio:9000',
    });
    expect(objectStoreOf(config)).toEqual({
      bucket: 'photos',
      prefix: 'smileid/',
      forcePathStyle: true,
      region: 'eu-west-1',
      endpoint: 'http://minio:9000',
      credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret' },
      timeoutMs: 5000,
    });
    // No keys: the SDK's own chain (an instance, task or pod role) finds them; no region: its lookup does.
    expect(objectStoreOf(loadConfig({ OBJECT_STORE_BUCKET: 'photos' }))).toMatchObject({
      credentials: undefined,
      endpoint: undefined,
      forcePathStyle: false,
      region: undefined,
    });
  });

  it('passes the session token of temporary keys on with them, and refuses one without keys', () => {
    const temporary = { AWS_ACCESS_KEY_ID: 'ASIAEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };
    expect(
      objectStoreOf(loadConfig({ OBJECT_STORE_BUCKET: 'photos', ...temporary, AWS_SESSION_TOKEN: 'token' })),
    ).toMatchObject({
      credentials: { accessKeyId: 'ASIAEXAMPLE', secretAccessKey: 'secret', sessionToken: 'token' },
    });
    expect(objectStoreOf(loadConfig({ OBJECT_STORE_BUCKET: 'photos', ...temporary }))?.credentials).toEqual({
      accessKeyId: 'ASIAEXAMPLE',
      secretAccessKey: 'secret',
    });
    expect(configError({ OBJECT_STORE_BUCKET: 'photos', AWS_SESSION_TOKEN: 'token' }).problems).toEqual([
      'AWS_SESSION_TOKEN belongs to temporary keys: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY with it',
    ]);
  });

  it('embeds a store in development when nothing is configured, never in production', () => {
    expect(loadConfig({}).OBJECT_STORE_EMBEDDED).toBe(true);
    expect(objectStoreOf(loadConfig({}))).toBeNull();
    expect(loadConfig({ OBJECT_STORE_BUCKET: 'photos' }).OBJECT_STORE_EMBEDDED).toBe(false);
    expect(loadConfig({ OBJECT_STORE_INLINE: 'true' }).OBJECT_STORE_EMBEDDED).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', ...PRODUCTION_SECRETS }).OBJECT_STORE_EMBEDDED).toBe(false);
  });

  it('refuses a bucket together with inline storage, a key id without its secret, and a bucket name S3 refuses', () => {
    expect(configError({ OBJECT_STORE_BUCKET: 'photos', OBJECT_STORE_INLINE: 'true' }).problems).toEqual([
      'OBJECT_STORE_INLINE=true keeps photos in Postgres: it cannot be combined with OBJECT_STORE_BUCKET',
    ]);
    expect(configError({ OBJECT_STORE_BUCKET: 'photos', AWS_ACCESS_KEY_ID: 'AKIA' }).problems).toEqual([
      'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set together, or neither',
    ]);
    expect(configError({ OBJECT_STORE_BUCKET: 'Photos_Bucket' }).problems[0]).toMatch(
      /^OBJECT_STORE_BUCKET: /,
    );
  });
});
