import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/observability/metrics.js';
import { loadDashboards, promQueries } from '../helpers/dashboards.js';

/**
 * The provisioned dashboards as Grafana lays them out, checked without Grafana or Prometheus
 * (test/e2e/dashboards-prometheus.test.ts asks a real Prometheus every query where one is installed).
 */

interface GridPanel {
  id: number;
  title?: string;
  gridPos: { x: number; y: number; w: number; h: number };
}

const dashboards = loadDashboards().map(({ file, dashboard }) => ({
  file,
  panels: dashboard.panels as unknown as GridPanel[],
}));

describe.each(dashboards)('the dashboard $file', ({ panels }) => {
  it('gives every panel its own id', () => {
    const ids = panels.map((panel) => panel.id);
    expect(ids.every((id) => Number.isInteger(id) && id > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('places every panel within the 24 columns, none over another', () => {
    const taken = new Map<string, string>();
    const overlaps: string[] = [];
    for (const { title, gridPos } of panels) {
      expect(gridPos.x >= 0 && gridPos.w > 0 && gridPos.x + gridPos.w <= 24, title).toBe(true);
      for (let x = gridPos.x; x < gridPos.x + gridPos.w; x += 1) {
        for (let y = gridPos.y; y < gridPos.y + gridPos.h; y += 1) {
          const other = taken.get(`${x},${y}`);
          if (other !== undefined && !overlaps.includes(`${other} / ${title}`))
            overlaps.push(`${other} / ${title}`);
          taken.set(`${x},${y}`, title ?? '(untitled)');
        }
      }
    }
    expect(overlaps).toEqual([]);
  });
});

describe('the dashboards together', () => {
  it('show every metric the service exports in some Prometheus query', async () => {
    const exported = (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map(
      (metric) => metric.name,
    );
    const everyQuery = promQueries()
      .map((panel) => panel.query)
      .join('\n');
    expect(exported.length).toBeGreaterThanOrEqual(20);
    expect(
      exported.filter((name) => !new RegExp(`\\b${name}(_bucket|_sum|_count)?\\b`).test(everyQuery)),
    ).toEqual([]);
  });
});
