/**
 * The generated dashboard JSON read back as the foundation SDK's model types, narrowed to what
 * buildDashboard always writes (so tests read fields without guarding each one).
 */
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import type {
  AnnotationQuery,
  Dashboard,
  GridPos,
  Panel,
  RowPanel,
  VariableModel,
  VariableOption,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dataquery } from '@grafana/grafana-foundation-sdk/prometheus';

/** A Prometheus target: the SDK's query without its builder-only marker method. */
export interface TargetJson extends Omit<Dataquery, '_implementsDataqueryVariant'> {
  datasource: Required<DataSourceRef>;
  legendFormat: string;
  refId: string;
}

export interface PanelJson extends Omit<Panel, 'targets'> {
  title: string;
  datasource: Required<DataSourceRef>;
  gridPos: GridPos;
  targets: TargetJson[];
}

export interface RowJson extends RowPanel {
  title: string;
  gridPos: GridPos;
}

/** Our variables' queries are PromQL strings (the SDK also allows an object). */
export interface VariableJson extends Omit<VariableModel, 'query'> {
  query?: string;
  current: VariableOption;
}

export interface AnnotationJson extends AnnotationQuery {
  expr: string;
}

export interface DashboardJson extends Omit<Dashboard, 'panels' | 'templating' | 'annotations'> {
  panels: (PanelJson | RowJson)[];
  templating: { list: VariableJson[] };
  annotations: { list: AnnotationJson[] };
}

export const isRow = (p: PanelJson | RowJson): p is RowJson => p.type === 'row';
export const isPanel = (p: PanelJson | RowJson): p is PanelJson => !isRow(p);

/** `json` as written by k8s/dashboard's dashboardJson. */
export function parseDashboard(json: string): DashboardJson {
  // Cast, not checked: the text is buildDashboard's Dashboard serialized; the tests assert on
  // every field they read.
  return JSON.parse(json) as DashboardJson;
}
