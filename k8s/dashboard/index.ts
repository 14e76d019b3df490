/** The dashboard of one install, as the JSON file Grafana reads. */
import type { SloConfig } from '../slo';
import type { GrafanaConfig } from './config';
import { buildDashboard } from './dashboard';

export interface InstallDashboard {
  readonly name: string;
  readonly namespace: string;
  readonly grafana: GrafanaConfig;
  readonly slo: SloConfig;
}

/** `<name>.json`: the file name in dist/grafana/ and the key in the ConfigMap. */
export const dashboardFile = (c: Pick<InstallDashboard, 'name'>) => `${c.name}.json`;

export function dashboardJson(c: InstallDashboard): string {
  const dashboard = buildDashboard({
    name: c.name,
    namespace: c.namespace,
    job: c.name,
    datasourceUid: c.grafana.dashboard.datasourceUid,
    slo: c.slo,
  });
  return `${JSON.stringify(dashboard, null, 2)}\n`;
}
