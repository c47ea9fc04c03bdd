import {
  MAX_JSON_CONTAINERS,
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
  MAX_JSON_VALUES,
} from '../smileid/json-budget.js';

/**
 * The costliest callback bodies we can think of, each as large as the size limit allows: shapes that
 * would make a parser or a schema build millions of things, and the worst shapes the structural limits
 * still let through. The event-loop test and `npm run bench:event-loop` send them to the service.
 */
export interface HostileShape {
  name: string;
  /** Whether its structure passes json-budget.ts; if not, it is refused there, signed or not. */
  withinLimits: boolean;
  /** The body's text: `{`, then `lead` (e.g. signature, timestamp and PartnerParams members), then the shape. */
  build: (lead: string, maxBytes: number) => string;
}

/** Below each limit by a margin, so the lead's own objects, keys and values fit too. */
const MARGIN = 50;
const CONTAINERS = MAX_JSON_CONTAINERS - MARGIN;
const KEYS = MAX_JSON_KEYS - MARGIN;
const VALUES = MAX_JSON_VALUES - MARGIN;

/** `{lead "key": open unit,unit,… close}` with as many units as fit in maxBytes (or `count`). */
function member(
  key: string,
  open: string,
  close: string,
  unit: (index: number) => string,
  count = Number.POSITIVE_INFINITY,
) {
  return (lead: string, maxBytes: number) => {
    const head = `{${lead}"${key}":${open}`;
    const tail = `${close}}`;
    const parts: string[] = [];
    let size = Buffer.byteLength(head) + Buffer.byteLength(tail);
    for (let index = 0; index < count; index += 1) {
      const text = unit(index);
      const added = Buffer.byteLength(text) + (index > 0 ? 1 : 0);
      if (size + added > maxBytes) break;
      parts.push(text);
      size += added;
    }
    return head + parts.join(',') + tail;
  };
}

/** One string member filling the body: `piece` repeated, whole. */
function longString(key: string, piece: string) {
  return (lead: string, maxBytes: number) => {
    const head = `{${lead}"${key}":"`;
    const room = maxBytes - Buffer.byteLength(head) - 2;
    return `${head}${piece.repeat(Math.floor(room / Buffer.byteLength(piece)))}"}`;
  };
}

/** The length each of `count` units may pad to, so that together they fill the body. */
const padFor = (maxBytes: number, count: number, fixed: number) =>
  Math.max(1, Math.floor(maxBytes / count) - fixed);

const id = (index: number) => String(index).padStart(6, '0');

export const HOSTILE_SHAPES: readonly HostileShape[] = [
  {
    name: 'empty objects in Antifraud.SuspectUsers (the reported body)',
    withinLimits: false,
    build: member('Antifraud', '{"SuspectUsers":[', ']}', () => '{}'),
  },
  {
    name: 'suspect users up to the container limit, with long reasons',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'Antifraud',
        '{"SuspectUsers":[',
        ']}',
        (index) => {
          const reason = 'r'.repeat(padFor(maxBytes, CONTAINERS, 40));
          return `{"user_id":"u-${id(index)}","reason":"${reason}"}`;
        },
        CONTAINERS,
      )(lead, maxBytes),
  },
  {
    name: 'a long array of small numbers',
    withinLimits: false,
    build: member('FullData', '[', ']', () => '7'),
  },
  {
    name: 'numbers up to the value limit, each long',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'FullData',
        '[',
        ']',
        () => `1.${'3'.repeat(padFor(maxBytes, VALUES, 4))}e-7`,
        VALUES,
      )(lead, maxBytes),
  },
  {
    name: 'many short strings in UserIDsOfPreviousRegistrants',
    withinLimits: false,
    build: member('UserIDsOfPreviousRegistrants', '[', ']', () => '"a"'),
  },
  {
    name: 'strings up to the value limit in UserIDsOfPreviousRegistrants',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'UserIDsOfPreviousRegistrants',
        '[',
        ']',
        (index) => `"u-${id(index)}${'x'.repeat(padFor(maxBytes, VALUES, 12))}"`,
        VALUES,
      )(lead, maxBytes),
  },
  {
    name: 'comma-separated text of empty previous registrants',
    withinLimits: true,
    build: longString('UserIDsOfPreviousRegistrants', ','),
  },
  {
    name: 'many distinct keys in one FullData object',
    withinLimits: false,
    build: member('FullData', '{', '}', (index) => `"k${id(index)}":0`),
  },
  {
    name: 'distinct keys up to the key limit, in separate objects',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'FullData',
        '[',
        ']',
        (index) => `{"a${id(index)}":"${'v'.repeat(padFor(maxBytes, KEYS / 2, 40))}","b${id(index)}":0}`,
        Math.min(KEYS / 2, CONTAINERS),
      )(lead, maxBytes),
  },
  {
    name: 'Actions keys up to the key limit, with long outcomes',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'Actions',
        '{',
        '}',
        (index) => `"Check_${id(index)}":"${'P'.repeat(padFor(maxBytes, KEYS, 20))}"`,
        KEYS,
      )(lead, maxBytes),
  },
  {
    name: 'nesting as deep as the size limit allows',
    withinLimits: false,
    build: (lead, maxBytes) => {
      const depth = Math.floor((maxBytes - lead.length - 20) / 2);
      return `{${lead}"FullData":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    },
  },
  {
    name: 'nesting at the depth limit, repeated up to the container limit',
    withinLimits: true,
    build: (lead, maxBytes) => {
      const levels = MAX_JSON_DEPTH - 2;
      const pad = `"${'d'.repeat(padFor(maxBytes, CONTAINERS / levels, 2 * levels + 4))}"`;
      const tower = `${'['.repeat(levels)}${pad}${']'.repeat(levels)}`;
      return member('FullData', '[', ']', () => tower, Math.floor(CONTAINERS / levels))(lead, maxBytes);
    },
  },
  {
    name: 'one long string in Photo',
    withinLimits: true,
    build: longString('Photo', 'QUJD'),
  },
  {
    name: 'a long string of escaped lone surrogates in FullName',
    withinLimits: true,
    build: longString('FullName', '\\ud800'),
  },
  {
    name: 'a long string of escaped quotes and backslashes in FullName',
    withinLimits: true,
    build: longString('FullName', '\\"\\\\'),
  },
  {
    name: 'a long string of multi-byte characters in Address',
    withinLimits: true,
    build: longString('Address', 'é文😀'),
  },
  {
    name: 'a number of four million digits as ResultCode',
    withinLimits: true,
    build: (lead, maxBytes) => {
      const head = `{${lead}"IsFinalResult":"true","ResultCode":`;
      return `${head}${'1'.repeat(maxBytes - head.length - 1)}}`;
    },
  },
  {
    name: 'a huge FullData of a few hundred long fields',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'FullData',
        '{',
        '}',
        (index) => `"field_${id(index)}":"${'f'.repeat(padFor(maxBytes, 400, 20))}"`,
        400,
      )(lead, maxBytes),
  },
  {
    name: 'a job_status history up to the container limit',
    withinLimits: true,
    build: (lead, maxBytes) =>
      member(
        'history',
        '[',
        ']',
        (index) =>
          `{"SmileJobID":"${id(index)}","Actions":{"Liveness_Check":"${'P'.repeat(padFor(maxBytes, CONTAINERS / 2, 60))}"}}`,
        Math.floor(CONTAINERS / 2),
      )(`${lead}"job_complete":true,"job_success":true,`, maxBytes),
  },
  {
    name: 'whitespace filling the body',
    withinLimits: true,
    build: (lead, maxBytes) => {
      const head = `{${lead}"ResultCode":`;
      return `${head}${' '.repeat(maxBytes - head.length - 7)}"1210"}`;
    },
  },
  {
    name: 'an unterminated string filling the body',
    withinLimits: true,
    build: (lead, maxBytes) => {
      const head = `{${lead}"Photo":"`;
      return `${head}${'A'.repeat(maxBytes - head.length)}`;
    },
  },
];
