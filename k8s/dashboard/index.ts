/** The dashboard of one install, as the JSON file Grafana reads. */
import type { DeployConfig } from '../config';
import { printedValues } from '../printed';
import type { PrintedValues } from '../printed';
import { buildDashboard } from './dashboard';

/** `<name>.json`: the file name in dist/grafana/ and the key in the ConfigMap. */
export const dashboardFile = (c: Pick<DeployConfig, 'name'>) => `${c.name}.json`;

/** The dashboard JSON for printed values (the synth's, or the chart's Helm expressions). */
export function printedDashboardJson(p: PrintedValues): string {
  return `${JSON.stringify(buildDashboard(p), null, 2)}\n`;
}

export function dashboardJson(c: DeployConfig): string {
  return printedDashboardJson(printedValues(c));
}
