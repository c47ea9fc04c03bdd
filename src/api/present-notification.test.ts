import { describe, expect, it } from 'vitest';
import { deadLetterPage, presentDeadLetter, presentEndpoint } from './present-notification.js';

const at = new Date('2026-12-07T10:00:00.000Z');
const deadLetter = (id: string) => ({
  id,
  endpoint: 'https://hooks.example/smile',
  event: 'job.updated',
  jobId: `job-${id}`,
  messageId: `msg_${id}`,
  attempts: 12,
  lastError: 'HTTP 500',
  lastStatus: 500,
  createdAt: at,
  deadAt: new Date(at.getTime() + 60_000),
});
const cursorAfter = (id: string) => `after-${id}`;

describe('a dead letter as the API shows it', () => {
  it('keeps its fields and gives its times as ISO 8601', () => {
    expect(presentDeadLetter(deadLetter('7'))).toEqual({
      ...deadLetter('7'),
      createdAt: '2026-12-07T10:00:00.000Z',
      deadAt: '2026-12-07T10:01:00.000Z',
    });
  });
});

describe('a page of dead letters', () => {
  it('shows at most limit rows, and a cursor after the last shown when another row was read', () => {
    const page = deadLetterPage(['1', '2', '3'].map(deadLetter), 2, cursorAfter);
    expect(page.items.map((item) => item.id)).toEqual(['1', '2']);
    expect(page.nextCursor).toBe('after-2');
  });

  it('has no next cursor when the rows read fit in the page', () => {
    expect(deadLetterPage(['1', '2'].map(deadLetter), 2, cursorAfter).nextCursor).toBeNull();
    expect(deadLetterPage([], 50, cursorAfter)).toEqual({ items: [], nextCursor: null });
  });
});

describe('a webhook endpoint as the API shows it', () => {
  const endpoint = {
    id: 3,
    url: 'https://hooks.example/smile',
    disabledAt: null,
    disabledReason: null,
    configuredAt: at,
    retired: false,
    failures: 0,
    backoffUntil: null,
    pending: 4,
    dead: 1,
  };

  it('gives null for the times it has none of', () => {
    expect(presentEndpoint(endpoint)).toEqual({ ...endpoint, configuredAt: '2026-12-07T10:00:00.000Z' });
  });

  it('gives the times it has as ISO 8601', () => {
    const disabled = { ...endpoint, disabledAt: at, disabledReason: '410 Gone', backoffUntil: at };
    expect(presentEndpoint(disabled)).toMatchObject({
      disabledAt: '2026-12-07T10:00:00.000Z',
      disabledReason: '410 Gone',
      backoffUntil: '2026-12-07T10:00:00.000Z',
    });
  });
});
