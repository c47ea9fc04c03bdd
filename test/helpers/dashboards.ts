import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The provisioned Grafana dashboards and Prometheus rules, as the tests read them. */

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DASHBOARDS_DIRECTORY = path.join(ROOT, 'grafana/dashboards');
export const PROMETHEUS_DIRECTORY = path.join(ROOT, 'prometheus');

export const PROMETHEUS_UID = 'smileid-prometheus';
export const POSTGRES_UID = 'smileid-postgres';

interface DatasourceRef {
  type?: string;
  uid?: string;
}
interface Target {
  refId?: string;
  datasource?: DatasourceRef;
  expr?: string;
  rawSql?: string;
  format?: string;
}
interface Panel {
  title?: string;
  type?: string;
  datasource?: DatasourceRef;
  targets?: Target[];
  panels?: Panel[];
}
export interface Dashboard {
  uid: string;
  title: string;
  panels: Panel[];
}

/** One query of one panel, with where it comes from for test names and failure messages. */
export interface PanelQuery {
  dashboard: string;
  panel: string;
  refId: string;
  datasourceUid: string;
  query: string;
  /** SQL targets: `time_series` (needs a `time` column) or `table`. */
  format: string | undefined;
}

export function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS_DIRECTORY)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => ({
      file,
      dashboard: JSON.parse(readFileSync(path.join(DASHBOARDS_DIRECTORY, file), 'utf8')) as Dashboard,
    }));
}

/** Every query of every panel (rows' nested panels included); a target's datasource overrides its panel's. */
export function panelQueries(): PanelQuery[] {
  const queries: PanelQuery[] = [];
  const visit = (dashboard: Dashboard, panels: Panel[]) => {
    for (const panel of panels) {
      visit(dashboard, panel.panels ?? []);
      for (const target of panel.targets ?? []) {
        const uid = target.datasource?.uid ?? panel.datasource?.uid ?? '';
        const query = target.expr ?? target.rawSql;
        if (query === undefined)
          throw new Error(`${dashboard.title} / ${panel.title}: a target without a query`);
        queries.push({
          dashboard: dashboard.title,
          panel: panel.title ?? '(untitled)',
          refId: target.refId ?? 'A',
          datasourceUid: uid,
          query,
          format: target.format,
        });
      }
    }
  };
  for (const { dashboard } of loadDashboards()) visit(dashboard, dashboard.panels);
  return queries;
}

export const promQueries = () => panelQueries().filter((query) => query.datasourceUid === PROMETHEUS_UID);
export const sqlQueries = () => panelQueries().filter((query) => query.datasourceUid === POSTGRES_UID);

/** Grafana's PromQL variables, as Grafana would fill them for a short time range. */
const PROM_VARIABLES: Record<string, string> = {
  __rate_interval: '1m',
  __interval: '15s',
  __range: '5m',
};

/** Substitutes Grafana variables in PromQL; any other `$name` is an error, so a new one gets noticed here. */
export function expandPromql(expr: string): string {
  return expr.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => {
    const value = PROM_VARIABLES[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${whole} in ${expr}`);
    return value;
  });
}

/**
 * Expands the Grafana SQL macros the dashboards use, as Grafana's PostgreSQL datasource does for the
 * range [from, to]. An unknown macro or variable throws, so a panel using a new one fails loudly.
 */
export function expandSql(sql: string, from: Date, to: Date): string {
  const literal = (at: Date) => `'${at.toISOString()}'`;
  const expanded = sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, (_m, column: string) => {
      return `${column.trim()} BETWEEN ${literal(from)} AND ${literal(to)}`;
    })
    .replace(/\$__timeFrom\(\)/g, literal(from))
    .replace(/\$__timeTo\(\)/g, literal(to))
    .replace(/\$__interval_ms\b/g, '60000')
    .replace(/\$__interval\b/g, "'1m'");
  const leftover = expanded.match(/\$\w+/);
  if (leftover) throw new Error(`unknown Grafana macro or variable ${leftover[0]} in ${sql}`);
  return expanded;
}
