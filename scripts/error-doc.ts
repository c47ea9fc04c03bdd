import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { statusesOf, whenOf } from '../src/http/coded-error.js';
import { ERRORS, type ErrorCode } from '../src/http/error-catalog.js';

/**
 * `npm run docs:errors`: writes the error table of docs/api.md from the error catalog in
 * src/http/error-catalog.ts (each code's statuses, when it is answered, and its Retry-After), so the two
 * cannot drift apart. test/docs/error-doc.test.ts fails when the file and the catalog disagree.
 */

export const API_DOC = fileURLToPath(new URL('../docs/api.md', import.meta.url));
export const TABLE_START = '<!-- error-table:start -->';
export const TABLE_END = '<!-- error-table:end -->';

/** The markdown table of every error code: status, code, when. */
export function errorTable(): string {
  const rows = (Object.keys(ERRORS) as ErrorCode[]).map(
    (code) => `| ${statusesOf(code).join(', ')} | \`${code}\` | ${cell(whenOf(code))} |`,
  );
  return ['| status | code | when |', '|---|---|---|', ...rows].join('\n');
}

/** Table cells hold one line and no bare `|`. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/(?<!\\)\|/g, '\\|');
}

function markers(document: string): { start: number; end: number } {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`error-doc: ${TABLE_START} … ${TABLE_END} not found in docs/api.md`);
  }
  return { start, end };
}

/** The text between the two markers, without the blank lines that surround the table. */
export function tableRegion(document: string): string {
  const { start, end } = markers(document);
  return document.slice(start + TABLE_START.length, end).trim();
}

/** The document with the region between the markers replaced by `table`. */
export function withTable(document: string, table: string): string {
  const { start, end } = markers(document);
  return `${document.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${document.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = readFileSync(API_DOC, 'utf8');
  const after = withTable(before, errorTable());
  if (after === before) {
    console.log('docs/api.md: the error table is up to date');
  } else {
    writeFileSync(API_DOC, after);
    console.log('docs/api.md: error table rewritten from src/http/error-catalog.ts');
  }
}
