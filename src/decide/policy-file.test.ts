import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_POLICY_FILE, loadPolicyFile, PolicyFileError, parsePolicy } from './policy-file.js';

const problemsOf = (text: string) => parsePolicy(text).problems ?? [];

const minimal = {
  name: 'acme',
  rules: [{ id: 'approved', when: { state: 'approved' }, decision: 'approve' }],
  fallback: { decision: 'review' },
};

describe('parsePolicy', () => {
  it('reads a policy, a single value as a list of one, a rule’s reasons defaulting to its id', () => {
    const { policy } = parsePolicy(stringify(minimal));
    expect(policy?.policy).toEqual({
      name: 'acme',
      rules: [{ id: 'approved', when: { state: ['approved'] }, decision: 'approve', reasons: ['approved'] }],
      fallback: { decision: 'review', reasons: ['no_rule_matched'] },
    });
    expect(policy?.version).toMatch(/^acme@[0-9a-f]{12}$/);
  });

  it('gives a policy written as JSON the version of the same policy written as YAML', () => {
    expect(parsePolicy(JSON.stringify(minimal)).policy?.version).toBe(
      parsePolicy(stringify(minimal)).policy?.version,
    );
  });

  it('lists every problem at once, each with its path', () => {
    const problems = problemsOf(
      stringify({
        name: 'Acme Strict',
        rules: [
          { id: 'approved', when: { stat: 'approved' }, decision: 'approve' },
          { id: 'Approved-2', when: { state: 'accepted', confidenceValue: {} }, decision: 'allow' },
          { id: 'approved', when: { resultCode: [1015, '12'] }, decision: 'retry' },
          { id: 'no_result', when: {}, decision: 'pending' },
        ],
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(/^name: must be lower-case/),
      expect.stringMatching(/^rules\.0\.when: Unrecognized key: "stat"/),
      expect.stringMatching(/^rules\.1\.id: must be snake_case/),
      expect.stringMatching(/^rules\.1\.when\.state\.0: Invalid option/),
      expect.stringMatching(/^rules\.1\.when\.confidenceValue: needs at least one of/),
      expect.stringMatching(/^rules\.1\.decision: Invalid option/),
      expect.stringMatching(/^rules\.2\.when\.resultCode\.0: must be a string: quote result codes/),
      expect.stringMatching(/^rules\.2\.when\.resultCode\.1: must be a 4-digit result code/),
      expect.stringMatching(/^rules\.3\.id: is reserved/),
      expect.stringMatching(/^fallback: /),
    ]);
  });

  it('refuses two rules with one id', () => {
    const twice = { ...minimal, rules: [minimal.rules[0], minimal.rules[0]] };
    expect(problemsOf(stringify(twice))).toEqual([
      'rules.1.id: repeats the id of rules.0: a decision must name one rule',
    ]);
  });

  it('gives YAML syntax errors with their line and column', () => {
    const problems = problemsOf('name: acme\nrules: [\n  { id: a\nfallback: {decision: review}\n');
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });

  it('refuses a key given twice, which YAML would otherwise quietly overwrite', () => {
    expect(problemsOf('name: acme\nname: other\nrules: []\nfallback: {decision: review}\n')[0]).toMatch(
      /^line 2, column 1: /,
    );
  });
});

describe('loadPolicyFile', () => {
  it('reads the default policy and the stricter example shipped in the repository', () => {
    expect(loadPolicyFile().version).toMatch(/^smile-id-default@[0-9a-f]{12}$/);
    const strict = path.join(path.dirname(DEFAULT_POLICY_FILE), 'examples/strict.yaml');
    expect(loadPolicyFile(strict).version).toMatch(/^acme-strict@[0-9a-f]{12}$/);
  });

  it('names the file and each problem when the file cannot be used', () => {
    const directory = mkdtempSync(path.join(tmpdir(), 'policy-'));
    const file = path.join(directory, 'bad.json');
    writeFileSync(file, JSON.stringify({ ...minimal, fallback: undefined }));
    expect(() => loadPolicyFile(file)).toThrow(PolicyFileError);
    expect(() => loadPolicyFile(file)).toThrow(/Invalid decision policy .*bad\.json:\n {2}- fallback: /);
    expect(() => loadPolicyFile(path.join(directory, 'missing.yaml'))).toThrow(/cannot be read \(ENOENT\)/);
  });
});
