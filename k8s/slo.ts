/**
 * Service level objectives as data, and the rules that watch them: SLI error ratios recorded over
 * every window the alerts need, the error budget left over the SLO period, and multi-window,
 * multi-burn-rate alerts in the form of the Google SRE workbook (chapter "Alerting on SLOs"), as
 * Sloth and Pyrra generate them.
 */
import { z } from 'zod';
import { DURATION_BUCKETS, METRIC } from '../src/contract';
import type { AlertRule } from './alerts';
import type { MixedRuleGroup, RecordingRule } from './rules';
import { num } from './rules';
import { durationSeconds } from './units';

const duration = z.string().refine((s) => durationSeconds(s) !== undefined, 'must be a Prometheus duration like 30s, 5m, 14d');
const objective = z.number().gt(0, 'must be a percentage above 0').lt(100, 'must be a percentage below 100 (100% leaves no error budget)');

export const sloSchema = z.strictObject({
  /** The period the objectives hold over, and the error budget is counted over. @default 14d */
  period: duration.default('14d'),
  /** Requests not answered 5xx (4xx and 499 do not burn the budget). @default 99.9 */
  availability: z.strictObject({ objective: objective.default(99.9) }).prefault({}),
  /** Requests answered within `thresholdSeconds`. @default 99 within 1 s */
  latency: z
    .strictObject({
      objective: objective.default(99),
      thresholdSeconds: z
        .number()
        .refine(
          (s) => DURATION_BUCKETS.includes(s),
          `must be a bucket boundary of ${METRIC.requestDuration} (${DURATION_BUCKETS.join(', ')})`,
        )
        .default(1),
    })
    .prefault({}),
});

export type SloConfig = z.output<typeof sloSchema>;

/** The SLO period must fit in what Prometheus keeps, or the budget is computed over less data than it claims. */
export function sloPeriodProblem(period: string, retention: string): string | undefined {
  const p = durationSeconds(period)!;
  const r = durationSeconds(retention);
  if (r !== undefined && p > r) return `(${period}) must not be longer than the Prometheus retention (${retention})`;
  return undefined;
}

export const SLO_ALERT = {
  availability: 'RestApiErrorBudgetBurn',
  latency: 'RestApiLatencyBudgetBurn',
} as const;

export type SloName = keyof typeof SLO_ALERT;

/**
 * The workbook's window pairs. `factor30d` is the burn rate for a 30-day budget: 14.4 spends 2%
 * of it in 1 hour, 6 spends 5% in 6 hours, 3 and 1 spend 10% in 1 and 3 days.
 */
export const BURN_WINDOWS = [
  { severity: 'critical', long: '1h', short: '5m', factor30d: 14.4 },
  { severity: 'critical', long: '6h', short: '30m', factor30d: 6 },
  { severity: 'warning', long: '1d', short: '2h', factor30d: 3 },
  { severity: 'warning', long: '3d', short: '6h', factor30d: 1 },
] as const;

/** `for` of the burn-rate alerts by severity: long enough to skip one odd evaluation. */
export const BURN_FOR = { critical: '2m', warning: '15m' } as const;

/**
 * The burn rate a window pair alerts at for `period`: the same share of the budget spent in the
 * window as the workbook's 30-day figure, so a shorter period alerts at a lower rate. Never below
 * 1: below 1 the budget outlasts the period, and nobody needs to act.
 */
export function burnFactor(factor30d: number, period: string): number {
  return Math.max(1, Number(((factor30d * durationSeconds(period)!) / (30 * 86400)).toPrecision(6)));
}

/** Every window an SLI ratio is recorded over: the alerts' windows and the period. */
export function sliWindows(period: string): string[] {
  const windows: string[] = BURN_WINDOWS.flatMap((b) => [b.short, b.long]);
  return [...new Set([...windows, period])].sort((a, b) => durationSeconds(a)! - durationSeconds(b)!);
}

/** Recorded names, `level:metric:operations`; the `slo` label says which objective. */
export const sliErrorRatio = (window: string) => `namespace_job:slo_sli_error:ratio_rate${window}`;
export const BUDGET_REMAINING = 'namespace_job:slo_error_budget_remaining:ratio';

export interface SloSpec {
  readonly name: SloName;
  /** The objective as a ratio (0.999). */
  readonly objective: number;
  /** 1 - objective. */
  readonly budget: number;
  /** What a good request is, in words. */
  readonly good: string;
  /** PromQL of the share of bad requests over `window`, per namespace and job. */
  errorRatio(window: string): string;
}

/**
 * The `le` matcher of the bucket bounded at `seconds`, in both spellings it is stored under:
 * `1` as the text format writes it and Prometheus 2 keeps it, `1.0` as OpenMetrics writes it and
 * Prometheus 3 normalizes every `le` to (its migration guide's `le=~"1(\.0)?"`).
 */
export function bucketMatcher(seconds: number): string {
  const canonical = Number.isInteger(seconds) ? seconds.toFixed(1) : String(seconds);
  return canonical === String(seconds) ? `le="${canonical}"` : `le=~"${String(seconds)}(\\\\.0)?"`;
}

/** The objectives of one install, from the SLO config and the install's series selector. */
export function sloSpecs(slo: SloConfig, selector: string): SloSpec[] {
  const by = 'sum by (namespace, job)';
  const rate = (metric: string, window: string, extra = '') => `rate(${metric}{${selector}${extra}}[${window}])`;
  const threshold = slo.latency.thresholdSeconds;
  return [
    {
      name: 'availability',
      objective: slo.availability.objective / 100,
      budget: Number(num(1 - slo.availability.objective / 100)),
      good: 'requests not answered 5xx',
      // The 5xx counter starts at 0 on every route, so the ratio is 0 (not empty) before any error.
      errorRatio: (win) => `${by} (${rate(METRIC.requests5xx, win)}) / ${by} (${rate(METRIC.requestsTotal, win)})`,
    },
    {
      name: 'latency',
      objective: slo.latency.objective / 100,
      budget: Number(num(1 - slo.latency.objective / 100)),
      good: `requests answered within ${threshold}s`,
      errorRatio: (win) =>
        `1 - ${by} (${rate(`${METRIC.requestDuration}_bucket`, win, `,${bucketMatcher(threshold)}`)}) / ${by} (${rate(`${METRIC.requestDuration}_count`, win)})`,
    },
  ];
}

export interface SloRuleOptions {
  /** The install's series selector (`appSelector(config)`). */
  readonly selector: string;
  readonly slo: SloConfig;
  /** Base of runbook_url; `#<alert>` is appended. */
  readonly runbookBaseUrl: string;
  /** Prefix of the group names (the app name). */
  readonly groupPrefix: string;
}

/** One group per SLO: its SLI ratios, the budget left, then the burn-rate alerts that read them. */
export function sloRuleGroups(o: SloRuleOptions): MixedRuleGroup[] {
  const period = o.slo.period;
  return sloSpecs(o.slo, o.selector).map((s) => {
    const scoped = `{slo="${s.name}",${o.selector}}`;
    const recordings: RecordingRule[] = [
      ...sliWindows(period).map((win) => ({ record: sliErrorRatio(win), expr: s.errorRatio(win), labels: { slo: s.name } })),
      { record: BUDGET_REMAINING, expr: `1 - ${sliErrorRatio(period)}${scoped} / ${num(s.budget)}`, labels: { slo: s.name } },
    ];
    const budgetLeft =
      `{{ with printf \`${BUDGET_REMAINING}{slo="${s.name}",namespace="%s",job="%s"}\` $labels.namespace $labels.job | query }}` +
      '{{ . | first | value | humanizePercentage }}{{ else }}an unknown share{{ end }}';
    const alerts: AlertRule[] = (['critical', 'warning'] as const).map((severity) => {
      const pairs = BURN_WINDOWS.filter((b) => b.severity === severity);
      const described = pairs.map((b) => `${b.long} (and ${b.short}) at ${num(burnFactor(b.factor30d, period))}x`).join(' or ');
      // The workbook's form, (long > k*budget and short > k*budget) per pair; the long window
      // comes first so the value, divided by the budget, is the burn rate over it.
      const expr = `(${pairs
        .map((b) => {
          const limit = num(burnFactor(b.factor30d, period) * s.budget);
          return `(${sliErrorRatio(b.long)}${scoped} > ${limit} and ${sliErrorRatio(b.short)}${scoped} > ${limit})`;
        })
        .join(' or ')}) / ${num(s.budget)}`;
      const alert = SLO_ALERT[s.name];
      const pace = severity === 'critical' ? 'fast' : 'steadily';
      return {
        alert,
        expr,
        for: BURN_FOR[severity],
        labels: { severity },
        annotations: {
          summary: `{{ $labels.job }} is burning its ${s.name} error budget ${pace}`,
          description:
            `The ${num(s.objective * 100)}% ${s.name} SLO (${s.good}, over ${period}) is burning its error budget {{ $value | printf "%.1f" }}x as fast as it may, ` +
            `over ${described}. ${budgetLeft} of the ${period} budget is left.`,
          runbook_url: `${o.runbookBaseUrl}#${alert.toLowerCase()}`,
        },
      };
    });
    return { name: `${o.groupPrefix}.slo.${s.name}`, rules: [...recordings, ...alerts] };
  });
}
