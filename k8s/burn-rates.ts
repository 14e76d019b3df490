/**
 * The multi-window, multi-burn-rate scheme of the Google SRE workbook (chapter "Alerting on
 * SLOs"), as Sloth and Pyrra generate it: window pairs, their burn rates, and the arithmetic that
 * scales them to the SLO period. The chart's `_helpers.tpl` repeats the arithmetic in Go templates
 * (`rest-api.burnRate`, `rest-api.burnLimit`, `rest-api.bucketMatcher`); the chart parity tests
 * compare both over a matrix of periods and objectives.
 */
import { durationSeconds, num } from './units';

export const SLO_ALERT = {
  availability: 'RestApiErrorBudgetBurn',
  latency: 'RestApiLatencyBudgetBurn',
} as const;

export type SloName = keyof typeof SLO_ALERT;
export const SLO_NAMES = Object.keys(SLO_ALERT) as SloName[];

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

/** The windows the alerts read, shortest first (the SLI ratio is also recorded over the period). */
export const ALERT_WINDOWS: readonly string[] = [...new Set(BURN_WINDOWS.flatMap((b) => [b.short, b.long]))].sort(
  (a, b) => durationSeconds(a)! - durationSeconds(b)!,
);

/**
 * The burn rate a window pair alerts at for `period`: the same share of the budget spent in the
 * window as the workbook's 30-day figure, so a shorter period alerts at a lower rate. Never below
 * 1: below 1 the budget outlasts the period, and nobody needs to act.
 */
export function burnFactor(factor30d: number, period: string): number {
  return Math.max(1, Number(((factor30d * durationSeconds(period)!) / (30 * 86400)).toPrecision(6)));
}

/** The error budget of an objective in percent (99.9 -> 0.001), as printed. */
export function budgetOf(objectivePercent: number): string {
  return num(1 - objectivePercent / 100);
}

/** The error ratio a window pair alerts above: burn rate times budget, as printed. */
export function burnLimit(factor30d: number, period: string, objectivePercent: number): string {
  return num(burnFactor(factor30d, period) * Number(budgetOf(objectivePercent)));
}

/**
 * The `le` matcher of the bucket bounded at `seconds`, in both spellings it is stored under:
 * `1` as the text format writes it and Prometheus 2 keeps it, `1.0` as OpenMetrics writes it and
 * Prometheus 3 normalizes every `le` to (its migration guide's `le=~"1(\.0)?"`).
 */
export function bucketMatcher(seconds: number): string {
  return Number.isInteger(seconds) ? `le=~"${num(seconds)}(\\\\.0)?"` : `le="${num(seconds)}"`;
}
