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
  const fields = [
    Number(year),
    Number(month),
    Number(day),
    Number(hour),
    Number(minute),
    Number(second),
  ] as const;
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(fields[0], fields[1] - 1, fields[2], fields[3], fields[4], fields[5], millis);
  // Date.UTC rolls impossible fields over (month 13, Feb 30, minute 60) and maps years 0-99 to 19xx:
  // a value that does not read back unchanged was not a real instant.
  const back = new Date(utc);
  const readBack = [
    back.getUTCFullYear(),
    back.getUTCMonth() + 1,
    back.getUTCDate(),
    back.getUTCHours(),
    back.getUTCMinutes(),
    back.getUTCSeconds(),
  ];
  if (Number.isNaN(utc) || readBack.some((value, index) => value !== fields[index])) return undefined;
  const offset = zoneOffsetMinutes(zone);
  return offset === undefined ? undefined : utc - offset * 60_000;
}

function zoneOffsetMinutes(zone: string): number | undefined {
  if (zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2));
  if (hours > 23 || minutes > 59) return undefined;
  return sign * (hours * 60 + minutes);
}
