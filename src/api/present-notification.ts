import type { WebhookStore } from '../store/webhooks/webhook-store.js';

type DeadLetterRow = Awaited<ReturnType<WebhookStore['listDead']>>[number];
type EndpointRow = Awaited<ReturnType<WebhookStore['listEndpoints']>>[number];

/** A dead letter as the API shows it: its times as ISO 8601. */
export function presentDeadLetter(row: DeadLetterRow) {
  return { ...row, createdAt: row.createdAt.toISOString(), deadAt: row.deadAt.toISOString() };
}

/** A webhook endpoint as the API shows it: its times as ISO 8601, null where it has none. */
export function presentEndpoint(endpoint: EndpointRow) {
  return {
    ...endpoint,
    disabledAt: endpoint.disabledAt?.toISOString() ?? null,
    configuredAt: endpoint.configuredAt.toISOString(),
    backoffUntil: endpoint.backoffUntil?.toISOString() ?? null,
  };
}

/**
 * One page of dead letters from `limit + 1` rows read: the extra row, when there is one, says that
 * another page follows, which resumes after the last dead letter shown.
 */
export function deadLetterPage(
  rows: readonly DeadLetterRow[],
  limit: number,
  cursorAfter: (id: string) => string,
) {
  const items = rows.slice(0, limit).map(presentDeadLetter);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? cursorAfter(last.id) : null };
}
