import { createHash } from 'node:crypto';
import type { Conditions, Policy } from './policy.js';

/** Hex characters of the SHA-256 kept in a version: enough to tell policies apart, short enough to read. */
const DIGEST_LENGTH = 12;

/**
 * The policy as it decides: its name, its rules in order (id, conditions, decision, reasons) and its
 * fallback, with keys sorted and the items of each list condition sorted and unique. Descriptions and
 * sources are left out, and so is how the file was written (YAML or JSON, key order, a list's order or
 * repeats), so a version changes exactly when what the policy can decide changes, or its name does.
 */
export function canonicalPolicy(policy: Policy): string {
  return stableJson({
    name: policy.name,
    rules: policy.rules.map((rule) => ({
      id: rule.id,
      when: canonicalConditions(rule.when),
      decision: rule.decision,
      reasons: rule.reasons,
    })),
    fallback: { decision: policy.fallback.decision, reasons: policy.fallback.reasons },
  });
}

/** `name@digest`: the policy's name and the start of the SHA-256 of its canonical form. */
export function policyVersion(policy: Policy): string {
  const digest = createHash('sha256').update(canonicalPolicy(policy)).digest('hex');
  return `${policy.name}@${digest.slice(0, DIGEST_LENGTH)}`;
}

function canonicalConditions(when: Conditions): Record<string, unknown> {
  const canonical: Record<string, unknown> = {};
  for (const [name, condition] of Object.entries(when)) {
    if (condition === undefined) continue;
    if (Array.isArray(condition)) canonical[name] = asSet(condition);
    else if (name === 'actions')
      canonical[name] = Object.fromEntries(
        Object.entries(condition as Record<string, string[]>).map(([action, values]) => [
          action,
          asSet(values),
        ]),
      );
    else canonical[name] = condition;
  }
  return canonical;
}

/** A list whose order and repeats do not matter, in one order: by its items' JSON. */
function asSet(items: readonly unknown[]): unknown[] {
  const unique = new Map(items.map((item) => [JSON.stringify(item), item]));
  return [...unique.keys()].sort().map((key) => unique.get(key));
}

/** JSON with every object's keys sorted, so equal values always give equal text. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
