/** The `grafana` key of the deploy config: the dashboard ConfigMap and its data source. */
import { z } from 'zod';

export const grafanaSchema = z.strictObject({
  dashboard: z
    .strictObject({
      /** Ship the dashboard as a ConfigMap labelled for the Grafana sidecar. @default true */
      enabled: z.boolean().default(true),
      /** uid of the Prometheus data source the dashboard selects by default (kube-prometheus-stack's). @default prometheus */
      datasourceUid: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,40}$/, 'must be a Grafana uid: letters, digits, - and _, at most 40')
        .default('prometheus'),
    })
    .prefault({}),
});

export type GrafanaConfig = z.output<typeof grafanaSchema>;
