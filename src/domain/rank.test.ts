import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareRanks, type FacetRank, outranks } from './rank.js';

const rank = (overrides: Partial<FacetRank> = {}): FacetRank => ({
  final: false,
  authority: 'callback',
  at: 1_000,
  hash: 'b',
  ...overrides,
});

const anyRank: fc.Arbitrary<FacetRank> = fc.record({
  final: fc.boolean(),
  authority: fc.constantFrom('callback', 'job_status'),
  at: fc.integer({ min: 0, max: 5 }),
  hash: fc.constantFrom('a', 'b', 'c'),
});

describe('compareRanks', () => {
  it('puts a final facet above a provisional one whatever its authority, time and hash', () => {
    const provisional = rank({ final: false, authority: 'job_status', at: 9_999, hash: 'z' });
    const final = rank({ final: true, authority: 'callback', at: 1, hash: 'a' });
    expect(compareRanks(final, provisional)).toBeGreaterThan(0);
    expect(outranks(final, provisional)).toBe(true);
    expect(outranks(provisional, final)).toBe(false);
  });

  it('puts job_status above a callback at equal finality, even when the callback is newer', () => {
    const status = rank({ authority: 'job_status', at: 1 });
    const callback = rank({ authority: 'callback', at: 9_999 });
    expect(compareRanks(status, callback)).toBeGreaterThan(0);
  });

  it('puts the newer facet above the older at equal finality and authority', () => {
    expect(compareRanks(rank({ at: 2_000, hash: 'a' }), rank({ at: 1_000, hash: 'z' }))).toBeGreaterThan(0);
  });

  it('breaks a tie on everything else by the content hash', () => {
    expect(compareRanks(rank({ hash: 'b' }), rank({ hash: 'a' }))).toBeGreaterThan(0);
    expect(compareRanks(rank({ hash: 'a' }), rank({ hash: 'b' }))).toBeLessThan(0);
  });

  it('finds equal ranks equal, so neither outranks the other', () => {
    expect(compareRanks(rank(), rank())).toBe(0);
    expect(outranks(rank(), rank())).toBe(false);
  });

  it('is antisymmetric', () => {
    fc.assert(
      fc.property(anyRank, anyRank, (a, b) => {
        expect(Math.sign(compareRanks(a, b))).toBe(-Math.sign(compareRanks(b, a)) || 0);
      }),
      { numRuns: 300 },
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(anyRank, anyRank, anyRank, (a, b, c) => {
        fc.pre(compareRanks(a, b) >= 0 && compareRanks(b, c) >= 0);
        expect(compareRanks(a, c)).toBeGreaterThanOrEqual(0);
      }),
      { numRuns: 300 },
    );
  });

  it('finds two ranks equal only when every field is equal', () => {
    fc.assert(
      fc.property(anyRank, anyRank, (a, b) => {
        expect(compareRanks(a, b) === 0).toBe(
          a.final === b.final && a.authority === b.authority && a.at === b.at && a.hash === b.hash,
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('outranks', () => {
  it('lets any facet fill an empty slot', () => {
    fc.assert(
      fc.property(anyRank, (candidate) => {
        expect(outranks(candidate, undefined)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('agrees with compareRanks on a filled slot', () => {
    fc.assert(
      fc.property(anyRank, anyRank, (candidate, incumbent) => {
        expect(outranks(candidate, incumbent)).toBe(compareRanks(candidate, incumbent) > 0);
      }),
      { numRuns: 200 },
    );
  });
});
