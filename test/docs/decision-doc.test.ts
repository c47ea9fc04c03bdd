import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPolicyFile, parsePolicy } from '../../src/decide/policy-file.js';
import { BUILT_IN_RULES } from '../../src/domain/decision/policy.js';

/**
 * The decision policies in docs/api.md are the ones in policies/: the default policy's table lists its
 * rules in order with their decisions and sources, the stricter example decides as its file does, and
 * every source a rule cites is a section of docs/smile-id.md.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const API = readFileSync(path.join(ROOT, 'docs/api.md'), 'utf8');
const SMILE_ID = readFileSync(path.join(ROOT, 'docs/smile-id.md'), 'utf8');
const DEFAULT = loadPolicyFile(path.join(ROOT, 'policies/default.yaml'));
const STRICT = loadPolicyFile(path.join(ROOT, 'policies/examples/strict.yaml'));

/** The text of a `### title` section of docs/api.md, up to the next heading. */
function section(title: string): string {
  const start = API.indexOf(`\n### ${title}\n`);
  if (start < 0) throw new Error(`docs/api.md has no "### ${title}" section`);
  const end = API.slice(start + 1).search(/\n#{2,3} /);
  return end < 0 ? API.slice(start) : API.slice(start, start + 1 + end);
}

/** GitHub's anchors of docs/smile-id.md's headings. */
const ANCHORS = new Set(
  [...SMILE_ID.matchAll(/^#{2,3} (.+)$/gm)].map(([, title]) =>
    title!
      .toLowerCase()
      .replace(/[^a-z0-9 -]/g, '')
      .replace(/ /g, '-'),
  ),
);

describe('the decision policies in the documentation', () => {
  it('lists the default policy’s rules in order, with their decisions and the sections they cite', () => {
    const rows = [
      ...section('The default policy').matchAll(
        /^\| `([a-z_]+)` \| [^|]+ \| `([a-z]+)` \| \[[^\]]+\]\(smile-id\.md#([a-z-]+)\) \|$/gm,
      ),
    ];
    expect(
      rows.map(([, id, decision, anchor]) => ({ id, decision, source: `docs/smile-id.md#${anchor}` })),
    ).toEqual(
      DEFAULT.policy.rules.map((rule) => ({ id: rule.id, decision: rule.decision, source: rule.source })),
    );
    expect(section('The default policy')).toMatch(
      /^\| fallback \| anything else \| `review` \(`no_rule_matched`\) \|/m,
    );
  });

  it('cites a section of docs/smile-id.md in every rule of the default policy, and the sections exist', () => {
    const sources = [...DEFAULT.policy.rules.map((rule) => rule.source), DEFAULT.policy.fallback.source];
    for (const source of sources) {
      expect(source).toMatch(/^docs\/smile-id\.md#/);
      expect(ANCHORS, source).toContain(source!.split('#')[1]);
    }
  });

  it('shows the stricter example as it decides in policies/examples/strict.yaml', () => {
    const block = /```yaml\n(name: acme-strict[\s\S]*?)```/.exec(section('A stricter policy'))?.[1];
    expect(block).toBeDefined();
    expect(parsePolicy(block!).policy?.version).toBe(STRICT.version);
  });

  it('names the service’s own rules as the code does', () => {
    for (const rule of Object.values(BUILT_IN_RULES))
      expect(section('The policy file')).toContain(`\`${rule}\``);
  });
});
