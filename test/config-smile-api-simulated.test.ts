import { describe, expect, it } from 'vitest';
import { ConfigError, DEVELOPMENT_SECRETS, loadConfig } from '../src/config.js';

/** Every secret production insists on, none of them a development default. */
const PRODUCTION = {
  NODE_ENV: 'production',
  SMILE_PARTNER_ID: '4242',
  SMILE_API_KEYS: 'live-key-1',
  INTERNAL_API_TOKENS: 'live-token-1',
  INTERNAL_PII_TOKENS: 'live-pii-token-1',
  DATA_ENCRYPTION_KEYS: `live-1:${Buffer.alloc(32, 7).toString('base64')}`,
  CALLBACK_ALLOWED_CIDRS: 'any',
} as const;

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
        const config = loadConfig({ ...PRODUCTION, SMILE_ENV: smileEnv, SMILE_API_BASE_URL: baseUrl });
        expect(config.SMILE_API_SIMULATED).toBe(false);
        expect(config.SMILE_API_BASE_URL).toMatch(/^https:\/\/(?:test)?api\.smileidentity\.com\/v1$/);
      }
    }
  });

  it('cannot be reached in production with the development key, which production refuses', () => {
    expect(() => loadConfig({ ...PRODUCTION, SMILE_API_KEYS: DEVELOPMENT_SECRETS.SMILE_API_KEYS })).toThrow(
      ConfigError,
    );
  });
});
