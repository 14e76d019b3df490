/**
 * Prometheus durations and Kubernetes quantities: parsing, so config can be checked and compared;
 * and numbers as PromQL and the chart print them.
 */
import { z } from 'zod';

const DURATION = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS = [365 * 86400, 7 * 86400, 86400, 3600, 60, 1, 0.001];

/** Seconds in a Prometheus duration (`15d`, `1h30m`, `500ms`); undefined when it is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (m === null || text === '') return undefined;
  return DURATION_UNITS.reduce((sum, unit, i) => sum + Number(m[i + 1] ?? 0) * unit, 0);
}

const QUANTITY = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/;
const QUANTITY_UNITS: Record<string, number> = {
  '': 1,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** Bytes in a Kubernetes storage quantity (`10Gi`, `500M`); undefined when it is not one. */
export function quantityBytes(text: string): number | undefined {
  const m = QUANTITY.exec(text);
  return m === null ? undefined : Number(m[1]) * QUANTITY_UNITS[m[2] ?? '']!;
}

const BYTE_SIZE = /^(\d+(?:\.\d+)?)(?:(K|M|G|T|P|E)i?)?B$/;
const BYTE_SIZE_UNITS: Record<string, number> = { '': 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50, E: 2 ** 60 };

/** Bytes in a Prometheus size (`8GiB`, `512MB`: Prometheus reads both as powers of 1024). */
export function byteSizeBytes(text: string): number | undefined {
  const m = BYTE_SIZE.exec(text);
  return m === null ? undefined : Number(m[1]) * BYTE_SIZE_UNITS[m[2] ?? '']!;
}

/** A Prometheus size for `bytes`, rounded down to whole MiB (or GiB when exact). */
export function formatByteSize(bytes: number): string {
  const mib = Math.floor(bytes / 2 ** 20);
  return mib % 1024 === 0 ? `${mib / 1024}GiB` : `${mib}MiB`;
}

/**
 * A Prometheus duration in the config. The pattern (not only a refinement) so that the chart's
 * values.schema.json, generated from the config schema, checks it too.
 */
export const durationSchema = z
  .string()
  .regex(/^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/, 'must be a Prometheus duration like 30s, 5m, 15d')
  .refine((s) => durationSeconds(s) !== undefined, 'must be a Prometheus duration like 30s, 5m, 15d');

/**
 * A number as PromQL, annotations and the chart print it: at most 12 decimals, no float noise
 * (`1 - 0.999` is 0.001), never an exponent. The chart's `rest-api.num` helper prints the same
 * (`printf "%.12f"`, trailing zeros trimmed).
 */
export function num(n: number): string {
  return n.toFixed(12).replace(/\.?0+$/, '');
}
