/**
 * Smile ID timestamps arrive as `2023-02-14T00:07:49.924Z` or `2021-08-12T17:57:00.614879`
 * (microseconds, no zone). Parsed only to judge freshness and order; a zone-less value is UTC.
 * Returns epoch milliseconds, or undefined when the string is not a recognisable ISO 8601 instant.
 */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

export function parseSmileTimestamp(raw: string): number | undefined {
  const match = ISO_INSTANT.exec(raw.trim());
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second, fraction = '', zone = 'Z'] = match;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(
    Number(year),
    Number(month) - 1,
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
    millis,
  );
  if (Number.isNaN(utc) || new Date(utc).getUTCDate() !== Number(day)) return undefined;
  return utc - zoneOffsetMinutes(zone) * 60_000;
}

function zoneOffsetMinutes(zone: string): number {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
}
