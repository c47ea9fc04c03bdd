import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { settingsOf } from './settings.js';

describe('settingsOf', () => {
  const settings = settingsOf(
    loadConfig({
      RECONCILE_HORIZON_HOURS: '72',
      CALLBACK_TIMESTAMP_TOLERANCE_SECONDS: '600',
      CALLBACK_FUTURE_SKEW_SECONDS: '30',
      NOTIFY_WEBHOOK_URLS: 'https://a.example/hooks,https://b.example/hooks',
      NOTIFY_WEBHOOK_SECRETS: 'whsec_c2VjcmV0LWZvci1hLWVuZHBvaW50,whsec_c2VjcmV0LWZvci1iLWVuZHBvaW50',
      NOTIFY_RETRY_HOURS: '2',
      SMILE_API_TIMEOUT_MS: '4000',
    }),
  );

  it('turns hours and seconds into the milliseconds the services count in', () => {
    expect(settings.pollModel.horizonMs).toBe(72 * 3_600_000);
    expect(settings.callbacks.timestampToleranceMs).toBe(600_000);
    expect(settings.callbacks.futureSkewMs).toBe(30_000);
    expect(settings.notifications.retryWindowMs).toBe(2 * 3_600_000);
  });

  it('pairs each webhook URL with its own secret, in order', () => {
    expect([...settings.notifications.secrets]).toEqual([
      ['https://a.example/hooks', 'whsec_c2VjcmV0LWZvci1hLWVuZHBvaW50'],
      ['https://b.example/hooks', 'whsec_c2VjcmV0LWZvci1iLWVuZHBvaW50'],
    ]);
  });

  it('gives uploads at least a minute, however short the job_status timeout', () => {
    expect(settings.smileApi.status.timeoutMs).toBe(4000);
    expect(settings.smileApi.uploads.timeoutMs).toBe(60_000);
  });

  it('parses the key ring once, newest key current', () => {
    expect(settings.keyring.currentKeyId).toBe('dev');
  });
});
