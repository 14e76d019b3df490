/**
 * The Grafana dashboard, built with grafana-foundation-sdk's typed builders from the rows in
 * queries.ts: a `datasource` variable on every query (default uid `prometheus`, as
 * kube-prometheus-stack provisions it), `namespace`/`job`/`endpoint` variables, and the install's
 * firing alerts as annotations.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { LegendDisplayMode, LegendPlacement, ReduceDataOptionsBuilder, VizLegendOptionsBuilder } from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DashboardCursorSync,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import type { Dashboard, Panel } from '@grafana/grafana-foundation-sdk/dashboard';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatPanelBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesPanelBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import type { SloConfig } from '../slo';
import { ALERT_ANNOTATION_EXPR, dashboardRows, VAR, VARIABLE_QUERIES } from './queries';
import type { PanelSpec } from './queries';

/** The data source every panel and variable reads: whichever Prometheus the variable picks. */
export const DATASOURCE = { type: 'prometheus', uid: `\${${VAR.datasource}}` } as const;

/** Grafana caps dashboard uids at 40 characters. */
export const MAX_UID_LENGTH = 40;

export const dashboardUid = (name: string): string => name.slice(0, MAX_UID_LENGTH);

export interface DashboardOptions {
  /** uid and title; at most 40 characters are kept for the uid. */
  readonly name: string;
  /** Defaults of the namespace and job variables: the install this dashboard ships with. */
  readonly namespace: string;
  readonly job: string;
  /** uid of the Prometheus data source selected by default. @default prometheus */
  readonly datasourceUid: string;
  readonly slo: SloConfig;
}

const PANEL_HEIGHT = 8;

function panel(spec: PanelSpec): cog.Builder<Panel> {
  const builder =
    spec.kind === 'stat'
      ? new StatPanelBuilder().reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
      : new TimeseriesPanelBuilder().legend(new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom));
  builder.title(spec.title).description(spec.description).unit(spec.unit).datasource(DATASOURCE).span(spec.width).height(PANEL_HEIGHT);
  spec.targets.forEach((t, i) =>
    builder.withTarget(
      new DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(t.expr)
        .legendFormat(t.legend)
        .refId(String.fromCharCode(65 + i)),
    ),
  );
  return builder;
}

const current = (value: string) => ({ selected: true, text: value, value });

export function buildDashboard(o: DashboardOptions): Dashboard {
  const builder = new DashboardBuilder(o.name)
    .uid(dashboardUid(o.name))
    .description('Traffic, errors, latency, SLOs, saturation and scrape health of the REST API, generated from k8s/.')
    .tags([o.name, 'generated'])
    .editable()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(new DatasourceVariableBuilder(VAR.datasource).label('Data source').type('prometheus').current({ selected: true, text: o.datasourceUid, value: o.datasourceUid }))
    .withVariable(
      new QueryVariableBuilder(VAR.namespace)
        .label('Namespace')
        .datasource(DATASOURCE)
        .query(VARIABLE_QUERIES.namespace)
        .definition(VARIABLE_QUERIES.namespace)
        .current(current(o.namespace))
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .withVariable(
      new QueryVariableBuilder(VAR.job)
        .label('Job')
        .datasource(DATASOURCE)
        .query(VARIABLE_QUERIES.job)
        .definition(VARIABLE_QUERIES.job)
        .current(current(o.job))
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .withVariable(
      new QueryVariableBuilder(VAR.endpoint)
        .label('Route')
        .datasource(DATASOURCE)
        .query(VARIABLE_QUERIES.endpoint)
        .definition(VARIABLE_QUERIES.endpoint)
        .multi(true)
        .includeAll(true)
        .allValue('.*')
        .current({ selected: true, text: 'All', value: '$__all' })
        .refresh(VariableRefresh.OnTimeRangeChanged)
        .sort(VariableSort.AlphabeticalAsc),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Firing alerts')
        .datasource(DATASOURCE)
        .enable(true)
        .iconColor('red')
        .expr(ALERT_ANNOTATION_EXPR)
        .step('60s')
        .titleFormat('{{alertname}}')
        .textFormat('{{severity}}: {{alertname}}')
        .tagKeys('alertname,severity'),
    );
  for (const row of dashboardRows(o.slo)) {
    builder.withRow(new RowBuilder(row.title));
    for (const spec of row.panels) builder.withPanel(panel(spec));
  }
  return builder.build();
}
