/**
 * The shapes of Prometheus rule groups that hold recording rules as well as alerts, shared by the
 * recording rules and the SLO rules.
 */
import type { AlertRule } from './alerts';

export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export type Rule = AlertRule | RecordingRule;

export interface MixedRuleGroup {
  readonly name: string;
  readonly rules: readonly Rule[];
}

export const isRecording = (r: Rule): r is RecordingRule => 'record' in r;

/** A number as PromQL and annotations print it: no float noise (`1 - 0.999` is 0.001, not 0.0010000000000000009). */
export function num(n: number): string {
  return String(Number(n.toPrecision(12)));
}
