import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CONFIGURATION_DOC,
  configurationTable,
  TABLE_END,
  TABLE_START,
  tableRegion,
  withTable,
} from '../../scripts/config-doc.js';
import { DEVELOPMENT_SECRETS, environmentSchema } from '../../src/config.js';

const OUT_OF_DATE = 'docs/configuration.md is out of date with src/config.ts: run `npm run docs:config`';

describe('the configuration table in docs/configuration.md', () => {
  const table = configurationTable();

  it('is exactly the table the environment schema generates', () => {
    expect(tableRegion(readFileSync(CONFIGURATION_DOC, 'utf8')), OUT_OF_DATE).toBe(table);
  });

  it('has one row per variable of the schema, in the schema’s order', () => {
    const names = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((match) => match[1]);
    expect(names).toEqual(Object.keys(environmentSchema.shape));
  });

  it('shows development secrets as such, never their values', () => {
    for (const [name, value] of Object.entries(DEVELOPMENT_SECRETS)) {
      expect(table).toContain(`| \`${name}\` | (development value; required in production) |`);
      expect(table).not.toContain(value);
    }
  });

  it('gives every variable a default and a description', () => {
    const rows = table.split('\n').slice(2);
    for (const row of rows) {
      const cells = row.split(/(?<!\\)\|/).slice(1, -1);
      expect(cells, row).toHaveLength(3);
      for (const cell of cells) expect(cell.trim(), row).not.toBe('');
    }
  });
});

describe('rewriting the region between the markers', () => {
  it('replaces only what lies between them and is stable when run twice', () => {
    const document = `# Title\n\nbefore\n\n${TABLE_START}\n\nold table\n\n${TABLE_END}\n\nafter\n`;
    const once = withTable(document, '| a |');
    expect(once).toBe(`# Title\n\nbefore\n\n${TABLE_START}\n\n| a |\n\n${TABLE_END}\n\nafter\n`);
    expect(withTable(once, '| a |')).toBe(once);
    expect(tableRegion(once)).toBe('| a |');
  });

  it('refuses a document without the markers', () => {
    expect(() => tableRegion('# no markers')).toThrow(/config-table:start/);
  });
});
