/**
 * Service level objectives and the rules that watch them: SLI error ratios recorded over every
 * window the alerts need, the error budget left over the SLO period, and multi-window,
 * multi-burn-rate alerts (k8s/burn-rates.ts), built from printed values (k8s/printed.ts).
 */
import { METRIC } from '../src/contract';
import type { Unlinked } from './alerts';
import { ALERT_WINDOWS, BURN_FOR, BURN_WINDOWS, SLO_ALERT, SLO_NAMES } from './burn-rates';
import type { SloName } from './burn-rates';
import type { PrintedValues } from './printed';
import type { RecordingRule, RuleGroup } from './rules';

/** Recorded names, `level:metric:operations`; the `slo` label says which objective. */
export const sliErrorRatio = (window: string) => `namespace_job:slo_sli_error:ratio_rate${window}`;
export const BUDGET_REMAINING = 'namespace_job:slo_error_budget_remaining:ratio';

export interface SloSpec {
  readonly name: SloName;
  /** The objective in percent (99.9), printed. */
  readonly objective: string;
  /** 1 - objective, printed. */
  readonly budget: string;
  /** What a good request is, in words. */
  readonly good: string;
  /** PromQL of the share of bad requests over `window`, per namespace and job. */
  errorRatio(window: string): string;
}

/** The objectives of one install, from its printed values and a series selector. */
export function sloSpecs(p: PrintedValues, selector: string): SloSpec[] {
  const by = 'sum by (namespace, job)';
  const rate = (metric: string, window: string, extra = '') => `rate(${metric}{${selector}${extra}}[${window}])`;
  const errorRatio: Record<SloName, (win: string) => string> = {
    // The 5xx counter starts at 0 on every route, so the ratio is 0 (not empty) before any error.
    availability: (win) => `${by} (${rate(METRIC.requests5xx, win)}) / ${by} (${rate(METRIC.requestsTotal, win)})`,
    latency: (win) =>
      `1 - ${by} (${rate(`${METRIC.requestDuration}_bucket`, win, `,${p.derived.latencyMatcher}`)}) / ${by} (${rate(`${METRIC.requestDuration}_count`, win)})`,
  };
  const good: Record<SloName, string> = {
    availability: 'requests not answered 5xx',
    latency: `requests answered within ${p.slo.latency.thresholdSeconds}s`,
  };
  return SLO_NAMES.map((name) => ({
    name,
    objective: p.slo[name].objective,
    budget: p.derived.budget[name],
    good: good[name],
    errorRatio: errorRatio[name],
  }));
}

/** One group per SLO: its SLI ratios, the budget left, then the burn-rate alerts that read them. */
export function sloRuleGroups(p: PrintedValues, selector: string): RuleGroup<RecordingRule | Unlinked>[] {
  const period = p.slo.period;
  return sloSpecs(p, selector).map((s) => {
    const scoped = `{slo="${s.name}",${selector}}`;
    const sli = (win: string, when?: string): RecordingRule => ({
      record: sliErrorRatio(win),
      expr: s.errorRatio(win),
      labels: { slo: s.name },
      ...(when !== undefined && { when }),
    });
    const recordings: RecordingRule[] = [
      ...ALERT_WINDOWS.map((win) => sli(win)),
      // The period has a rule of its own unless it is one of the alert windows.
      sli(period, p.derived.periodIsExtraWindow),
      { record: BUDGET_REMAINING, expr: `1 - ${sliErrorRatio(period)}${scoped} / ${s.budget}`, labels: { slo: s.name } },
    ];
    const budgetLeft =
      `{{ with printf \`${BUDGET_REMAINING}{slo="${s.name}",namespace="%s",job="%s"}\` $labels.namespace $labels.job | query }}` +
      '{{ . | first | value | humanizePercentage }}{{ else }}an unknown share{{ end }}';
    const pairsOf = (severity: 'critical' | 'warning') =>
      BURN_WINDOWS.map((b, i) => ({ ...b, rate: p.derived.burnRates[i]!, limit: p.derived.burnLimits[s.name][i]! })).filter(
        (b) => b.severity === severity,
      );
    const alerts: Unlinked[] = (['critical', 'warning'] as const).map((severity) => {
      const pairs = pairsOf(severity);
      const described = pairs.map((b) => `${b.long} (and ${b.short}) at ${b.rate}x`).join(' or ');
      // The workbook's form, (long > k*budget and short > k*budget) per pair; the long window
      // comes first so the value, divided by the budget, is the burn rate over it.
      const expr = `(${pairs
        .map((b) => `(${sliErrorRatio(b.long)}${scoped} > ${b.limit} and ${sliErrorRatio(b.short)}${scoped} > ${b.limit})`)
        .join(' or ')}) / ${s.budget}`;
      const pace = severity === 'critical' ? 'fast' : 'steadily';
      return {
        alert: SLO_ALERT[s.name],
        expr,
        for: BURN_FOR[severity],
        labels: { severity },
        annotations: {
          summary: `{{ $labels.job }} is burning its ${s.name} error budget ${pace}`,
          description:
            `The ${s.objective}% ${s.name} SLO (${s.good}, over ${period}) is burning its error budget {{ $value | printf "%.1f" }}x as fast as it may, ` +
            `over ${described}. ${budgetLeft} of the ${period} budget is left.`,
        },
      };
    });
    return { name: `${p.name}.slo.${s.name}`, rules: [...recordings, ...alerts] };
  });
}
