/**
 * The Grafana dashboard, built with grafana-foundation-sdk's typed builders from the rows in
 * queries.ts: a `datasource` variable on every query (default uid `prometheus`, as
 * kube-prometheus-stack provisions it), `namespace`/`job`/`endpoint` variables, and the install's
 * firing alerts as annotations.
 */
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import {
  LegendDisplayMode,
  LegendPlacement,
  ReduceDataOptionsBuilder,
  VizLegendOptionsBuilder,
} from '@grafana/grafana-foundation-sdk/common';
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
import type { PrintedValues } from '../printed';
import { ALERT_ANNOTATION_EXPR, dashboardRows, VAR, VARIABLE_QUERIES } from './queries';
import type { PanelSpec } from './queries';

/** The data source every panel and variable reads: whichever Prometheus the variable picks. */
export const DATASOURCE = { type: 'prometheus', uid: `\${${VAR.datasource}}` } as const;

/** Grafana caps dashboard uids at 40 characters. */
export const MAX_UID_LENGTH = 40;

export const dashboardUid = (name: string): string => name.slice(0, MAX_UID_LENGTH);

const PANEL_HEIGHT = 8;

function panel(spec: PanelSpec): cog.Builder<Panel> {
  const builder =
    spec.kind === 'stat'
      ? new StatPanelBuilder().reduceOptions(new ReduceDataOptionsBuilder().calcs(['lastNotNull']))
      : new TimeseriesPanelBuilder().legend(
          new VizLegendOptionsBuilder().showLegend(true).displayMode(LegendDisplayMode.List).placement(LegendPlacement.Bottom),
        );
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

/**
 * A label's values as a variable, labelled with the label's name, several or all selectable
 * (`.+` for all, as grafana/dashboard-linter's job rule asks); queries match it with `=~`.
 */
function labelVariable(name: string, query: string, selected: { selected: boolean; text: string; value: string }): QueryVariableBuilder {
  return new QueryVariableBuilder(name)
    .label(name)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .current(selected)
    .multi(true)
    .includeAll(true)
    .allValue('.+')
    .refresh(VariableRefresh.OnTimeRangeChanged)
    .sort(VariableSort.AlphabeticalAsc);
}

/**
 * The dashboard of the install `p` describes: titled by its name, the namespace and job variables
 * defaulting to it, the SLO panels after its objectives.
 */
export function buildDashboard(p: PrintedValues): Dashboard {
  const o = { name: p.name, namespace: p.namespace, job: p.name, datasourceUid: p.dashboard.datasourceUid };
  const builder = new DashboardBuilder(o.name)
    .uid(p.dashboard.uid)
    .description('Traffic, errors, latency, SLOs, saturation and scrape health of the REST API, generated from k8s/.')
    .tags([o.name, 'generated'])
    // Generated: edits belong in k8s/dashboard/, so Grafana shows it read-only.
    .readonly()
    .refresh('30s')
    .time({ from: 'now-1h', to: 'now' })
    .timezone('browser')
    .tooltip(DashboardCursorSync.Crosshair)
    .withVariable(
      new DatasourceVariableBuilder(VAR.datasource)
        .label('Data source')
        .type('prometheus')
        .current({ selected: true, text: o.datasourceUid, value: o.datasourceUid }),
    )
    .withVariable(labelVariable(VAR.namespace, VARIABLE_QUERIES.namespace, current(o.namespace)))
    .withVariable(labelVariable(VAR.job, VARIABLE_QUERIES.job, current(o.job)))
    .withVariable(labelVariable(VAR.endpoint, VARIABLE_QUERIES.endpoint, { selected: true, text: 'All', value: '$__all' }))
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
  for (const row of dashboardRows(p)) {
    builder.withRow(new RowBuilder(row.title));
    for (const spec of row.panels) builder.withPanel(panel(spec));
  }
  return builder.build();
}
