import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  API_DOC,
  errorTable,
  TABLE_END,
  TABLE_START,
  tableRegion,
  withTable,
} from '../../scripts/error-doc.js';
import { statusesOf } from '../../src/http/coded-error.js';
import { ERRORS, type ErrorCode } from '../../src/http/error-catalog.js';

const OUT_OF_DATE = 'docs/api.md is out of date with src/http/error-catalog.ts: run `npm run docs:errors`';

describe('the error table in docs/api.md', () => {
  const document = readFileSync(API_DOC, 'utf8');
  const table = errorTable();

  it('is exactly the table the error catalog generates', () => {
    expect(tableRegion(document), OUT_OF_DATE).toBe(table);
  });

  it('has one row per code of the catalog, in its order, with the catalog’s statuses', () => {
    const rows = [...table.matchAll(/^\| ([\d, ]+) \| `([A-Z_]+)` \|/gm)].map(([, statuses, code]) => [
      code,
      statuses,
    ]);
    expect(rows).toEqual(
      (Object.keys(ERRORS) as ErrorCode[]).map((code) => [code, statusesOf(code).join(', ')]),
    );
  });

  it('says which codes come with Retry-After, and how long', () => {
    for (const [code, definition] of Object.entries(ERRORS)) {
      const row = table.split('\n').find((line) => line.includes(`| \`${code}\` |`));
      const seconds = (definition as { retryAfterSeconds?: number }).retryAfterSeconds;
      if (seconds === undefined) expect(row, code).not.toContain('Retry-After:');
      else expect(row, code).toContain(`sent with \`Retry-After: ${seconds}\``);
    }
  });
});

describe('the documentation', () => {
  it('gives, wherever it names a status with a code, a code of the catalog and the status it declares', () => {
    const DOCS = new URL('../../docs/', import.meta.url);
    const files = [
      ...readdirSync(DOCS)
        .filter((name) => name.endsWith('.md'))
        .map((name) => new URL(name, DOCS)),
      new URL('../../README.md', import.meta.url),
    ];
    const named = files.flatMap((file) =>
      [...readFileSync(file, 'utf8').matchAll(/`(\d{3}) ([A-Z][A-Z0-9_]+)`/g)].map((match) => ({
        where: `${file.pathname.split('/').at(-1)}: ${match[0]}`,
        status: Number(match[1]),
        code: match[2]!,
      })),
    );
    expect(named.length).toBeGreaterThan(0);
    for (const { where, status, code } of named) {
      expect(Object.keys(ERRORS), where).toContain(code);
      expect(statusesOf(code as ErrorCode), where).toContain(status);
    }
  });
});

describe('rewriting the region between the markers', () => {
  it('replaces only what lies between them and is stable when run twice', () => {
    const document = `# Errors\n\nbefore\n\n${TABLE_START}\n\nold table\n\n${TABLE_END}\n\nafter\n`;
    const once = withTable(document, '| a |');
    expect(once).toBe(`# Errors\n\nbefore\n\n${TABLE_START}\n\n| a |\n\n${TABLE_END}\n\nafter\n`);
    expect(withTable(once, '| a |')).toBe(once);
    expect(tableRegion(once)).toBe('| a |');
  });

  it('refuses a document without the markers', () => {
    expect(() => tableRegion('# no markers')).toThrow(/error-table:start/);
  });
});
