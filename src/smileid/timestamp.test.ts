import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSmileTimestamp } from './timestamp.js';

const instant = fc.date({
  min: new Date('1970-01-01T00:00:00Z'),
  max: new Date('2099-12-31T23:59:59.999Z'),
  noInvalidDate: true,
});

describe('parseSmileTimestamp', () => {
  it('reads the millisecond format with a Z zone', () => {
    expect(parseSmileTimestamp('2023-02-14T00:07:49.924Z')).toBe(Date.UTC(2023, 1, 14, 0, 7, 49, 924));
  });

  it('reads the microsecond format without a zone as UTC, keeping milliseconds', () => {
    expect(parseSmileTimestamp('2021-08-12T17:57:00.614879')).toBe(Date.UTC(2021, 7, 12, 17, 57, 0, 614));
  });

  it.each([
    ['+01:00', '2023-02-14T01:07:49.924+01:00'],
    ['+0100', '2023-02-14T01:07:49.924+0100'],
    ['-05:30', '2023-02-13T18:37:49.924-05:30'],
    ['-0530', '2023-02-13T18:37:49.924-0530'],
    ['+00:00', '2023-02-14T00:07:49.924+00:00'],
    ['-00:00', '2023-02-14T00:07:49.924-00:00'],
    ['a lowercase z', '2023-02-14t00:07:49.924z'],
  ])('applies the zone %s', (_, raw) => {
    expect(parseSmileTimestamp(raw)).toBe(Date.UTC(2023, 1, 14, 0, 7, 49, 924));
  });

  it.each([
    ['no fraction', '2023-02-14T00:07:49Z', Date.UTC(2023, 1, 14, 0, 7, 49)],
    ['one fractional digit', '2023-02-14T00:07:49.9Z', Date.UTC(2023, 1, 14, 0, 7, 49, 900)],
    ['nanoseconds', '2023-02-14T00:07:49.123456789Z', Date.UTC(2023, 1, 14, 0, 7, 49, 123)],
    ['a comma before the fraction', '2023-02-14T00:07:49,5Z', Date.UTC(2023, 1, 14, 0, 7, 49, 500)],
    ['a space instead of T', '2023-02-14 00:07:49.924', Date.UTC(2023, 1, 14, 0, 7, 49, 924)],
    ['surrounding whitespace', '  2023-02-14T00:07:49.924Z\n', Date.UTC(2023, 1, 14, 0, 7, 49, 924)],
    ['the leap day of a leap year', '2024-02-29T12:00:00Z', Date.UTC(2024, 1, 29, 12)],
    ['the last second of a year', '2023-12-31T23:59:59.999Z', Date.UTC(2023, 11, 31, 23, 59, 59, 999)],
  ])('reads a timestamp with %s', (_, raw, expected) => {
    expect(parseSmileTimestamp(raw)).toBe(expected);
  });

  it.each([
    ['an empty string', ''],
    ['words', 'yesterday at noon'],
    ['a date without a time', '2023-02-14'],
    ['a time without seconds', '2023-02-14T00:07Z'],
    ['epoch milliseconds', '1676333269924'],
    ['single-digit month and day', '2023-2-4T00:07:49Z'],
    ['trailing text', '2023-02-14T00:07:49.924Z garbage'],
    ['an empty fraction', '2023-02-14T00:07:49.Z'],
    ['a named zone', '2023-02-14T00:07:49 GMT'],
    ['an hour-only offset', '2023-02-14T00:07:49+01'],
    ['an RFC 2822 date', 'Tue, 14 Feb 2023 00:07:49 GMT'],
    ['Feb 30', '2023-02-30T00:00:00Z'],
    ['Feb 29 of a common year', '2023-02-29T00:00:00Z'],
    ['April 31', '2023-04-31T00:00:00Z'],
    ['month 13', '2023-13-01T00:00:00Z'],
    ['month 00', '2023-00-15T00:00:00Z'],
    ['day 00', '2023-02-00T00:00:00Z'],
    ['hour 24', '2023-02-14T24:00:00Z'],
    ['hour 25', '2023-02-14T25:00:00Z'],
    ['minute 60', '2023-02-14T10:60:00Z'],
    ['second 60', '2023-02-14T10:59:60Z'],
    ['a two-digit-century year that Date.UTC would move to 1999', '0099-01-01T00:00:00Z'],
    ['an offset of 25 hours', '2023-02-14T00:00:00+25:00'],
    ['an offset with 60 minutes', '2023-02-14T00:00:00+01:60'],
  ])('returns undefined for %s', (_, raw) => {
    expect(parseSmileTimestamp(raw)).toBeUndefined();
  });

  it('reads back every instant written by toISOString', () => {
    fc.assert(
      fc.property(instant, (date) => {
        expect(parseSmileTimestamp(date.toISOString())).toBe(date.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('treats a zone-less microsecond timestamp as the same UTC instant', () => {
    fc.assert(
      fc.property(instant, fc.integer({ min: 0, max: 999 }), (date, micros) => {
        const zoneless = `${date.toISOString().slice(0, 23)}${String(micros).padStart(3, '0')}`;
        expect(parseSmileTimestamp(zoneless)).toBe(date.getTime());
      }),
      { numRuns: 300 },
    );
  });

  it('gives the same instant for any offset, with or without its colon', () => {
    fc.assert(
      fc.property(
        instant,
        fc.integer({ min: -12 * 60, max: 14 * 60 }).map((minutes) => minutes - (minutes % 15)),
        (date, offsetMinutes) => {
          const local = new Date(date.getTime() + offsetMinutes * 60_000).toISOString().slice(0, 23);
          const sign = offsetMinutes < 0 ? '-' : '+';
          const hours = String(Math.floor(Math.abs(offsetMinutes) / 60)).padStart(2, '0');
          const minutes = String(Math.abs(offsetMinutes) % 60).padStart(2, '0');
          expect(parseSmileTimestamp(`${local}${sign}${hours}:${minutes}`)).toBe(date.getTime());
          expect(parseSmileTimestamp(`${local}${sign}${hours}${minutes}`)).toBe(date.getTime());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever the string', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40 }), (raw) => {
        const parsed = parseSmileTimestamp(raw);
        expect(parsed === undefined || Number.isFinite(parsed)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
