import { describe, expect, it } from 'vitest';
import { attributableId, idProblem, isAbsentMarker, MAX_ID_LENGTH } from './identifiers.js';

describe('the rule for job and user ids', () => {
  it.each([
    ['', 'absent'],
    [' ', 'absent'],
    ['\t\n ', 'absent'],
    ['N/A', 'absent'],
    ['n/a', 'absent'],
    [' N/A ', 'absent'],
    ['Not Available', 'absent'],
    ['NOT AVAILABLE', 'absent'],
    ['x'.repeat(MAX_ID_LENGTH + 1), 'too_long'],
    ['😀'.repeat(MAX_ID_LENGTH + 1), 'too_long'],
    ['job\u0000', 'nul'],
    ['job\ud800', 'ill_formed'],
    ['\udc00job', 'ill_formed'],
  ])('refuses %j as %s', (value, problem) => {
    expect(idProblem(value)).toBe(problem);
    expect(attributableId(value)).toBeNull();
  });

  it.each([
    ['a plain id', 'job-1'],
    ['200 ASCII characters', 'x'.repeat(MAX_ID_LENGTH)],
    ['101 emoji, 202 UTF-16 units', '😀'.repeat(101)],
    ['200 emoji, 400 UTF-16 units', '😀'.repeat(MAX_ID_LENGTH)],
    ['200 CJK characters', '中'.repeat(MAX_ID_LENGTH)],
    ['an id with spaces around it', ' job-1 '],
    ['an id that merely contains a marker', 'N/A-17'],
    ['a lone-looking slash', '/'],
  ])('accepts %s, and intake attributes it to itself', (_what, value) => {
    expect(idProblem(value)).toBeUndefined();
    expect(attributableId(value)).toBe(value);
  });

  it('counts length in code points, so 199 emoji and a letter fit while 200 emoji and a letter do not', () => {
    expect(idProblem(`${'😀'.repeat(MAX_ID_LENGTH - 1)}a`)).toBeUndefined();
    expect(idProblem(`${'😀'.repeat(MAX_ID_LENGTH)}a`)).toBe('too_long');
  });

  it('treats no id as unattributable', () => {
    expect(attributableId(null)).toBeNull();
    expect(attributableId(undefined)).toBeNull();
  });

  it('never calls a long text an absent marker, however it is padded', () => {
    expect(isAbsentMarker(`${' '.repeat(40)}N/A`)).toBe(false);
    expect(isAbsentMarker('N/A')).toBe(true);
  });
});
