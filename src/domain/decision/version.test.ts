import { describe, expect, it } from 'vitest';
import type { Policy } from './policy.js';
import { canonicalPolicy, policyVersion } from './version.js';

const policy: Policy = {
  name: 'acme',
  description: 'Ours',
  rules: [
    {
      id: 'approved',
      when: { state: ['approved'], country: ['NG', 'GH'], actions: { '*': ['Passed', 'Completed'] } },
      decision: 'approve',
      reasons: ['approved'],
      source: 'docs/smile-id.md#approved-and-rejected',
    },
    { id: 'rejected', when: { state: ['rejected'] }, decision: 'reject', reasons: ['rejected'] },
  ],
  fallback: { decision: 'review', reasons: ['no_rule_matched'] },
};

describe('policyVersion', () => {
  it('is the name and twelve hex characters of the canonical form’s SHA-256', () => {
    expect(policyVersion(policy)).toMatch(/^acme@[0-9a-f]{12}$/);
  });

  it('stays the same when only descriptions, sources, key order or a list’s order and repeats change', () => {
    const [approved, rejected] = policy.rules;
    const rewritten: Policy = {
      fallback: { reasons: ['no_rule_matched'], decision: 'review', description: 'anything else' },
      rules: [
        {
          reasons: ['approved'],
          decision: 'approve',
          when: {
            actions: { '*': ['Completed', 'Passed', 'Passed'] },
            country: ['GH', 'NG'],
            state: ['approved'],
          },
          id: 'approved',
        },
        { ...rejected!, description: 'said no' },
      ],
      name: 'acme',
    };
    expect(approved).toBeDefined();
    expect(canonicalPolicy(rewritten)).toBe(canonicalPolicy(policy));
    expect(policyVersion(rewritten)).toBe(policyVersion(policy));
  });

  it('changes when the rules’ order, a condition, a decision, a reason or the name changes', () => {
    const versions = new Set([
      policyVersion(policy),
      policyVersion({ ...policy, rules: [...policy.rules].reverse() }),
      policyVersion({
        ...policy,
        rules: [{ ...policy.rules[0]!, when: { state: ['approved'] } }, policy.rules[1]!],
      }),
      policyVersion({ ...policy, rules: [{ ...policy.rules[0]!, decision: 'review' }, policy.rules[1]!] }),
      policyVersion({ ...policy, fallback: { decision: 'review', reasons: ['other'] } }),
      policyVersion({ ...policy, name: 'acme-2' }),
    ]);
    expect(versions.size).toBe(6);
  });
});
