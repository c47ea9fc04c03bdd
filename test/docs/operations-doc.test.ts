import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createMetrics } from '../../src/observability/metrics.js';
import { PROMETHEUS_DIRECTORY, ROOT } from '../helpers/dashboards.js';

/**
 * docs/operations.md is the operator's reference: a row for every metric the service exports, and for
 * every alert of prometheus/alerts.yml a row with its severity and a runbook section its runbook_url
 * points at.
 */

const OPERATIONS = readFileSync(path.join(ROOT, 'docs/operations.md'), 'utf8');

interface AlertRule {
  alert: string;
  labels: { severity: string };
  annotations: { runbook_url: string };
}
const rules = (
  parse(readFileSync(path.join(PROMETHEUS_DIRECTORY, 'alerts.yml'), 'utf8')) as {
    groups: { rules: AlertRule[] }[];
  }
).groups.flatMap((group) => group.rules);

/** The text of a `## title` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = OPERATIONS.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/operations.md has no "## ${title}" section`);
  const end = OPERATIONS.indexOf('\n## ', start + 1);
  return OPERATIONS.slice(start, end < 0 ? undefined : end);
}

/** The `### name` subsections of the Alerts section, by their GitHub anchor (the name in lower case). */
function runbooks(): Map<string, string> {
  const parts = section('Alerts').split(/^### /m).slice(1);
  return new Map(
    parts.map((part) => {
      const newline = part.indexOf('\n');
      return [part.slice(0, newline).trim().toLowerCase(), part.slice(newline + 1).trim()];
    }),
  );
}

describe('docs/operations.md', () => {
  it('has a row in the metrics table for every metric the service exports, and for no other', async () => {
    const exported = (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map(
      (metric) => metric.name,
    );
    const documented = [...section('Metrics').matchAll(/^\| `(smileid_\w+)` \|/gm)].map((match) => match[1]);
    expect(exported.length).toBeGreaterThanOrEqual(20);
    expect([...documented].sort()).toEqual([...exported].sort());
  });

  it('lists every alert of alerts.yml in the alerts table with the severity of its rule', () => {
    const table = [...section('Alerts').matchAll(/^\| \[`(\w+)`\]\(#(\w+)\) \| (\w+) \|$/gm)].map(
      ([, alert, anchor, severity]) => ({ alert, anchor, severity }),
    );
    expect(table).toEqual(
      rules.map((rule) => ({
        alert: rule.alert,
        anchor: rule.alert.toLowerCase(),
        severity: rule.labels.severity,
      })),
    );
  });

  it('gives every alert a runbook section, linked by its runbook_url, that opens with its severity', () => {
    const sections = runbooks();
    expect(rules.length).toBeGreaterThanOrEqual(19);
    for (const rule of rules) {
      const anchor = rule.alert.toLowerCase();
      expect(rule.annotations.runbook_url, rule.alert).toBe(`docs/operations.md#${anchor}`);
      const severity = rule.labels.severity.charAt(0).toUpperCase() + rule.labels.severity.slice(1);
      expect(sections.get(anchor), rule.alert).toMatch(new RegExp(`^${severity}\\. Fires when `));
    }
    expect([...sections.keys()].sort()).toEqual(rules.map((rule) => rule.alert.toLowerCase()).sort());
  });
});
