import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { DEVELOPMENT_SECRETS, environmentSchema } from '../src/config.js';

/**
 * `npm run docs:config`: writes the configuration table of docs/configuration.md from the environment
 * schema in src/config.ts (each field's `.describe()` and default), so the two cannot drift apart.
 * test/docs/config-doc.test.ts fails when the file and the schema disagree.
 */

export const CONFIGURATION_DOC = fileURLToPath(new URL('../docs/configuration.md', import.meta.url));
export const TABLE_START = '<!-- config-table:start -->';
export const TABLE_END = '<!-- config-table:end -->';

const SECRET_DEFAULT = '(development value; required in production)';

/**
 * Defaults that loadConfig derives after parsing, or whose parsed form reads differently from what one
 * writes: the schema alone cannot tell them.
 */
const DERIVED_DEFAULTS: Readonly<Record<string, string>> = {
  SMILE_API_BASE_URL: 'from `SMILE_ENV`',
  DOCS_ENABLED: '`true`; `false` with `NODE_ENV=production`',
  CALLBACK_ALLOWED_CIDRS: '`any` outside production; production requires a value',
  PUBLIC_CALLBACK_URL: '`http://127.0.0.1:$PORT/callbacks/smile-id` outside production; none in production',
  DECISION_POLICY_FILE: 'the default policy, `policies/default.yaml`',
  OBJECT_STORE_BUCKET:
    'none: `npm start` embeds a store outside production; production requires one, or `OBJECT_STORE_INLINE=true`',
  AWS_REGION: "none: the AWS SDK's lookup; `us-east-1` with `AWS_ENDPOINT_URL_S3`",
  AWS_ACCESS_KEY_ID: "none: the AWS SDK's default chain",
  AWS_SECRET_ACCESS_KEY: 'none',
  AWS_SESSION_TOKEN: 'none',
  AWS_ENDPOINT_URL_S3: 'none: AWS S3',
};

type Field = (typeof environmentSchema.shape)[keyof typeof environmentSchema.shape];

/** The markdown table of every environment variable: name, default, description. */
export function configurationTable(): string {
  const shape: Readonly<Record<string, Field>> = environmentSchema.shape;
  for (const name of Object.keys(DERIVED_DEFAULTS)) {
    if (!(name in shape)) {
      throw new Error(`config-doc: ${name} has a derived default but is not in the schema`);
    }
  }
  const rows = Object.entries(shape).map(([name, field]) => {
    const description = field.description;
    if (!description) throw new Error(`config-doc: ${name} has no .describe() in src/config.ts`);
    return `| \`${name}\` | ${cell(defaultOf(name, field))} | ${cell(description)} |`;
  });
  return ['| variable | default | description |', '|---|---|---|', ...rows].join('\n');
}

function defaultOf(name: string, field: Field): string {
  const derived = DERIVED_DEFAULTS[name];
  if (derived !== undefined) return derived;
  if (!(field instanceof z.ZodDefault)) {
    throw new Error(`config-doc: ${name} has no default; add how it is derived to DERIVED_DEFAULTS`);
  }
  const value: unknown = field.def.defaultValue;
  if (name in DEVELOPMENT_SECRETS) {
    const secret = DEVELOPMENT_SECRETS[name as keyof typeof DEVELOPMENT_SECRETS];
    if (!Array.isArray(value) || value.join(',') !== secret) {
      throw new Error(`config-doc: ${name}'s default is not its development secret`);
    }
    return SECRET_DEFAULT;
  }
  const written = Array.isArray(value) ? value.join(',') : String(value);
  return written === '' ? '(empty)' : `\`${written}\``;
}

/** Table cells hold one line and no bare `|`. */
function cell(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').replace(/\|/g, '\\|');
}

/** The text between the two markers, without the blank lines that surround the table. */
export function tableRegion(document: string): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`config-doc: ${TABLE_START} … ${TABLE_END} not found in docs/configuration.md`);
  }
  return document.slice(start + TABLE_START.length, end).trim();
}

/** The document with the region between the markers replaced by `table`. */
export function withTable(document: string, table: string): string {
  const start = document.indexOf(TABLE_START);
  const end = document.indexOf(TABLE_END);
  if (start === -1 || end < start) {
    throw new Error(`config-doc: ${TABLE_START} … ${TABLE_END} not found in docs/configuration.md`);
  }
  return `${document.slice(0, start + TABLE_START.length)}\n\n${table}\n\n${document.slice(end)}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const before = readFileSync(CONFIGURATION_DOC, 'utf8');
  const after = withTable(before, configurationTable());
  if (after === before) {
    console.log('docs/configuration.md: the configuration table is up to date');
  } else {
    writeFileSync(CONFIGURATION_DOC, after);
    console.log('docs/configuration.md: configuration table rewritten from src/config.ts');
  }
}
