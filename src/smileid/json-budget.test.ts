import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  idInfoCallback,
  idNotFoundCallback,
  resultCallback,
  signCallback,
  simulatedJob,
  smileSecureCallback,
} from '../simulator/callbacks.js';
import { JOB_LIVES, jobStatusAt, lifeCallbacks } from '../simulator/job-lives.js';
import {
  JSON_LIMITS,
  type JsonLimits,
  MAX_JSON_CONTAINERS,
  MAX_JSON_DEPTH,
  MAX_JSON_KEYS,
  MAX_JSON_VALUES,
  measureJson,
} from './json-budget.js';

/** What JSON.parse builds, counted on the parsed value: the oracle the byte scanner must match. */
function countParsed(value: unknown, depth = 0): JsonLimits {
  const counts: JsonLimits = { depth, containers: 0, keys: 0, values: 1 };
  if (value === null || typeof value !== 'object') return counts;
  counts.depth = depth + 1;
  counts.containers = 1;
  const children = Array.isArray(value) ? value : Object.values(value);
  if (!Array.isArray(value)) counts.keys = children.length;
  for (const child of children) {
    const inner = countParsed(child, depth + 1);
    counts.depth = Math.max(counts.depth, inner.depth);
    counts.containers += inner.containers;
    counts.keys += inner.keys;
    counts.values += inner.values;
  }
  return counts;
}

const bytes = (text: string) => Buffer.from(text, 'utf8');
const LIMIT_NAMES = ['depth', 'containers', 'keys', 'values'] as const;

/** Exact limits pass; one less on any limit that counts something is reported as that limit. */
function expectExactCounts(text: string) {
  const counts = countParsed(JSON.parse(text));
  expect(measureJson(bytes(text), counts)).toBeUndefined();
  for (const name of LIMIT_NAMES) {
    if (counts[name] === 0) continue;
    const tighter = { ...counts, [name]: counts[name] - 1 };
    expect(measureJson(bytes(text), tighter)).toEqual({ limit: name, max: counts[name] - 1 });
  }
}

describe('measureJson', () => {
  it('passes every body the simulator sends, the largest photo included', () => {
    const job = simulatedJob();
    const credentials = { apiKey: 'k', partnerId: '085' };
    const bodies: unknown[] = [
      resultCallback(job, 'approved'),
      resultCallback(job, 'provisional'),
      resultCallback(job, 'rejected'),
      idInfoCallback(job, { photoBytes: 1_400_000, previousRegistrants: ['u-1', 'u-2'] }),
      smileSecureCallback(job, [{ user_id: 'u-1', reason: 'selfie match' }]),
      idNotFoundCallback(job),
    ];
    for (const life of JOB_LIVES) {
      bodies.push(...lifeCallbacks(life, job).map((callback) => callback.body));
      bodies.push(jobStatusAt(life, job, Number.MAX_SAFE_INTEGER));
    }
    for (const body of bodies) {
      const text = JSON.stringify(signCallback(body as Record<string, unknown>, credentials));
      expect(measureJson(bytes(text))).toBeUndefined();
    }
  });

  it('passes a FullData of 500 nested fields inside a job_status history at its cap', () => {
    const job = simulatedJob();
    const fullData = Object.fromEntries(
      Array.from({ length: 500 }, (_, index) => [`field_${index}`, { value: 'x', list: [1, 2] }]),
    );
    const idInfo = { ...idInfoCallback(job), FullData: fullData };
    const status = {
      job_complete: true,
      result: idInfo,
      history: Array.from({ length: 50 }, () => resultCallback(job)),
    };
    expect(measureJson(bytes(JSON.stringify(status)))).toBeUndefined();
  });

  it.each([
    ['escaped quotes', String.raw`{"a":"he said \"{[\" and left","b":[1]}`],
    ['a string ending in an escaped backslash', String.raw`{"a":"C:\\","b":{"c":null}}`],
    ['backslashes before a quote', String.raw`{"a":"\\\"\\","b":"\\\\"}`],
    ['structural characters inside strings', '{"a":"{{{[[[,,,:::}}}]]]","b":"[1,2,3]"}'],
    ['unicode escapes', String.raw`{"\u0022key\u0022":"\u005c\u0022","b":"\ud83d\ude00"}`],
    ['raw unicode text', '{"naïve":"ß文字😀","emoji😀":["é",{"ü":true}]}'],
    ['numbers of every form', '{"a":[-0,1e10,-1.5E-3,0.1],"b":{"c":1e+2}}'],
    ['whitespace everywhere', ' {\n\t"a" : [ 1 , "x" , { } , [ ] ] ,\r\n "b" : null } '],
    ['empty containers', '{"a":{},"b":[],"c":[{}],"d":[[]]}'],
    ['literals', '{"a":true,"b":false,"c":null,"d":[true,false,null]}'],
  ])('counts exactly what JSON.parse builds, with %s', (_, text) => {
    expectExactCounts(text);
  });

  it('counts exactly what JSON.parse builds for any JSON object, compact or indented', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()),
        fc.boolean(),
        (value, indent) => {
          expectExactCounts(JSON.stringify(value, null, indent ? 2 : undefined));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses nesting deeper than MAX_JSON_DEPTH and allows exactly that depth', () => {
    const nested = (depth: number) => `{"a":${'['.repeat(depth - 1)}${']'.repeat(depth - 1)}}`;
    expect(measureJson(bytes(nested(MAX_JSON_DEPTH)))).toBeUndefined();
    expect(measureJson(bytes(nested(MAX_JSON_DEPTH + 1)))).toEqual({ limit: 'depth', max: MAX_JSON_DEPTH });
  });

  it('refuses more containers than MAX_JSON_CONTAINERS', () => {
    const text = `{"SuspectUsers":[${Array(MAX_JSON_CONTAINERS).fill('{}').join(',')}]}`;
    expect(measureJson(bytes(text))).toEqual({ limit: 'containers', max: MAX_JSON_CONTAINERS });
  });

  it('refuses more keys than MAX_JSON_KEYS', () => {
    const members = Array.from({ length: MAX_JSON_KEYS + 1 }, (_, index) => `"k${index}":0`);
    expect(measureJson(bytes(`{${members.join(',')}}`))).toEqual({ limit: 'keys', max: MAX_JSON_KEYS });
  });

  it.each([
    ['numbers', '7'],
    ['short strings', '"a"'],
    ['literals', 'null'],
  ])('refuses more values than MAX_JSON_VALUES, as %s', (_, item) => {
    const text = `{"a":[${Array(MAX_JSON_VALUES).fill(item).join(',')}]}`;
    expect(measureJson(bytes(text))).toEqual({ limit: 'values', max: MAX_JSON_VALUES });
  });

  it('does not count brackets, commas or colons inside a 4 MiB string', () => {
    const text = `{"Photo":"${'{[,:\\"'.repeat(700_000)}"}`;
    expect(measureJson(bytes(text))).toBeUndefined();
  });

  it('stops at the first limit exceeded, whatever follows', () => {
    const text = `{"a":${'['.repeat(JSON_LIMITS.depth + 1)} and then anything at all`;
    expect(measureJson(bytes(text))).toEqual({ limit: 'depth', max: JSON_LIMITS.depth });
  });
});
