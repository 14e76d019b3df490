/**
 * Every value the rule groups and the dashboard print, as text. The synth prints them from the
 * resolved config (`printedValues`); the chart generator (k8s/helm.ts) gives Helm expressions
 * instead, so the one builder of each rule and panel serves both. Values that need arithmetic
 * (percentages, error budgets, burn-rate limits, the latency bucket matcher) are computed here for
 * the synth (k8s/burn-rates.ts) and by the chart's `_helpers.tpl` for Helm.
 */
import { bucketMatcher, budgetOf, BURN_WINDOWS, burnFactor, burnLimit, ALERT_WINDOWS, SLO_NAMES } from './burn-rates';
import type { SloName } from './burn-rates';
import type { DeployConfig } from './config';
import { num } from './units';

/** `T` with every leaf printed. */
export type Printed<T> = {
  readonly [K in keyof T]-?: NonNullable<T[K]> extends readonly unknown[]
    ? string
    : NonNullable<T[K]> extends object
      ? Printed<NonNullable<T[K]>>
      : string;
};

export interface PrintedValues {
  /** The app name: the job label and the prefix of group names. */
  readonly name: string;
  readonly namespace: string;
  readonly alerts: Printed<DeployConfig['alerts']>;
  readonly slo: Printed<DeployConfig['slo']>;
  readonly dashboard: { readonly uid: string; readonly datasourceUid: string };
  /** KEDA's request-rate scaling: whether it is on, and the rate window of the per-pod rate it reads. */
  readonly scaling: { readonly keda: string; readonly window: string };
  readonly derived: {
    /** alerts.highResponseTime.quantile and alerts.highErrorRatio.ratio in whole percent. */
    readonly quantilePercent: string;
    readonly ratioPercent: string;
    /** The burn rate of each of BURN_WINDOWS for slo.period. */
    readonly burnRates: readonly string[];
    readonly budget: Readonly<Record<SloName, string>>;
    /** The error ratio each of BURN_WINDOWS alerts above, per SLO. */
    readonly burnLimits: Readonly<Record<SloName, readonly string[]>>;
    readonly latencyMatcher: string;
    /** `true` when slo.period is not one of the alert windows, so its SLI ratio needs a rule of its own. */
    readonly periodIsExtraWindow: string;
  };
}

/** The dashboard's uid: the name, within Grafana's 40 characters. */
export const MAX_DASHBOARD_UID = 40;

/** `value` with every leaf printed: numbers by `num`, booleans as `true`/`false`. */
export function printLeaves<T>(value: T): Printed<T> {
  if (typeof value === 'number') return num(value) as unknown as Printed<T>;
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, printLeaves(v)])) as Printed<T>;
  }
  return String(value) as unknown as Printed<T>;
}

/** The printed values of a resolved config: what the synth writes. */
export function printedValues(c: DeployConfig): PrintedValues {
  const slo = c.slo;
  return {
    name: c.name,
    namespace: c.namespace,
    alerts: printLeaves(c.alerts),
    slo: printLeaves(slo),
    dashboard: { uid: c.name.slice(0, MAX_DASHBOARD_UID), datasourceUid: c.grafana.dashboard.datasourceUid },
    scaling: { keda: String(c.autoscaling.enabled && c.autoscaling.keda.enabled), window: c.autoscaling.keda.window },
    derived: {
      quantilePercent: num(Math.round(c.alerts.highResponseTime.quantile * 100)),
      ratioPercent: num(Math.round(c.alerts.highErrorRatio.ratio * 100)),
      burnRates: BURN_WINDOWS.map((b) => num(burnFactor(b.factor30d, slo.period))),
      budget: Object.fromEntries(SLO_NAMES.map((s) => [s, budgetOf(slo[s].objective)])) as Record<SloName, string>,
      burnLimits: Object.fromEntries(
        SLO_NAMES.map((s) => [s, BURN_WINDOWS.map((b) => burnLimit(b.factor30d, slo.period, slo[s].objective))]),
      ) as Record<SloName, string[]>,
      latencyMatcher: bucketMatcher(slo.latency.thresholdSeconds),
      periodIsExtraWindow: String(!ALERT_WINDOWS.includes(slo.period)),
    },
  };
}
