/**
 * The deployment's typed configuration, with the defaults documented in the README. Users
 * override any key in a YAML or JSON file named by SYNTH_CONFIG (or `--config <file>`) without
 * editing code; an invalid value fails the synth with the key and the value named.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { grafanaSchema } from './dashboard/config';
import { sloPeriodProblem, sloSchema } from './slo';
import { byteSizeBytes, durationSeconds, formatByteSize, quantityBytes } from './units';

const dns1123 = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case, digits, -)')
  .max(52, 'must be at most 52 characters (room for suffixes)');
const duration = z.string().refine((s) => durationSeconds(s) !== undefined, 'must be a Prometheus duration like 30s, 5m, 15d');
const quantity = z.string().refine((s) => quantityBytes(s) !== undefined, 'must be a Kubernetes quantity like 10Gi');
const cpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'must be a CPU quantity like 100m or 1');
const resources = z.strictObject({
  requests: z.strictObject({ cpu, memory: quantity }),
  limits: z.strictObject({ cpu: cpu.optional(), memory: quantity }),
});
const severity = z.enum(['critical', 'warning', 'info']);
const labels = z.record(
  z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label key'),
  z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label value').max(63),
);
const alert = <T extends z.ZodRawShape>(shape: T) =>
  z.strictObject({ for: duration, severity, ...shape });

export const configSchema = z
  .strictObject({
    /** App name: also the Service name and so the Prometheus job name. */
    name: dns1123.default('rest-api'),
    namespace: dns1123.default('rest-api'),
    /** `local`: a development PostgreSQL is deployed; `production`: an existing Secret is used. */
    profile: z.enum(['local', 'production']).default('local'),
    image: z
      .strictObject({
        repository: z.string().min(1).default('rest-api'),
        tag: z.string().min(1).default('0.1.0'),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
      })
      .prefault({}),
    replicas: z.number().int().min(2, 'must be at least 2 so a rollout or a node drain keeps the API up').default(2),
    port: z.number().int().min(1024).max(65535).default(8080),
    metricsPort: z.number().int().min(1024).max(65535).default(9464),
    resources: resources.default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
    /** Seconds the API may take to finish in-flight requests after SIGTERM. */
    shutdownTimeoutSeconds: z.number().int().min(1).max(600).default(10),
    /** Seconds the pod keeps serving after it is removed from endpoints, before SIGTERM. */
    preStopSeconds: z.number().int().min(0).max(60).default(5),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    faultInjection: z.boolean().default(false),
    database: z
      .strictObject({
        /** Deploy a development PostgreSQL. @default true for profile local, false for production */
        deploy: z.boolean().optional(),
        /** Secret holding DATABASE_URL; created by the synth when deploy is true. */
        secretName: dns1123.optional(),
        secretKey: z.string().min(1).default('DATABASE_URL'),
        image: z.string().min(1).default('postgres:15.14-bookworm'),
        volumeSize: quantity.default('1Gi'),
        storageClass: z.string().min(1).optional(),
      })
      .prefault({}),
    monitoring: z
      .strictObject({
        scrapeInterval: duration.default('10s'),
        scrapeTimeout: duration.default('5s'),
        evaluationInterval: duration.default('15s'),
        /** Scrapes returning more samples than this fail, so a label explosion cannot take Prometheus down. */
        sampleLimit: z.number().int().min(100).default(5000),
        retention: duration.default('15d'),
        /** Defaults to 80% of the volume size. */
        retentionSize: z.string().refine((s) => byteSizeBytes(s) !== undefined, 'must be a Prometheus size like 8GiB').optional(),
        volumeSize: quantity.default('10Gi'),
        storageClass: z.string().min(1).optional(),
        prometheusReplicas: z.number().int().min(1).default(1),
        prometheusResources: resources.default({ requests: { cpu: '100m', memory: '400Mi' }, limits: { memory: '1Gi' } }),
        /** Deploy an Alertmanager that the Prometheus sends its alerts to. */
        alertmanager: z.boolean().default(true),
        /** Labels a Prometheus selects ServiceMonitors and PrometheusRules by. */
        selectorLabels: labels
          .refine((l) => Object.keys(l).length > 0, 'must have at least one label (an empty selector selects every object)')
          .optional(),
        /** The host:port the plain prometheus.yml scrapes (the API run locally). */
        localTarget: z.string().min(1).default('localhost:8080'),
        /** Alertmanager the plain prometheus.yml sends alerts to. */
        localAlertmanager: z.string().min(1).default('localhost:9093'),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        /** Base of each alert's runbook_url (set it to where docs/runbooks.md is served); `#<alert>` is appended. */
        runbookBaseUrl: z.string().min(1).default('docs/runbooks.md'),
        /** Rate window of the rate-based alerts. */
        window: duration.default('5m'),
        highErrorRate: alert({ perSecond: z.number().positive() }).default({ perSecond: 0.1, for: '5m', severity: 'critical' }),
        highResponseTime: alert({ quantile: z.number().gt(0).lt(1), seconds: z.number().positive() }).default({
          quantile: 0.95,
          seconds: 1,
          for: '5m',
          severity: 'warning',
        }),
        highErrorRatio: alert({ ratio: z.number().gt(0).lt(1) }).default({ ratio: 0.05, for: '5m', severity: 'critical' }),
        targetDown: alert({}).default({ for: '2m', severity: 'warning' }),
        targetMissing: alert({}).default({ for: '5m', severity: 'critical' }),
        restarting: alert({ restarts: z.number().int().min(1), window: duration }).default({
          restarts: 3,
          window: '15m',
          for: '0s',
          severity: 'warning',
        }),
      })
      .prefault({}),
    /** Service level objectives and their burn-rate alerts (k8s/slo.ts). */
    slo: sloSchema.prefault({}),
    /** The Grafana dashboard (k8s/dashboard/). */
    grafana: grafanaSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const interval = durationSeconds(c.monitoring.scrapeInterval)!;
    const timeout = durationSeconds(c.monitoring.scrapeTimeout)!;
    if (timeout > interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'scrapeTimeout'],
        message: `(${c.monitoring.scrapeTimeout}) must not exceed monitoring.scrapeInterval (${c.monitoring.scrapeInterval})`,
      });
    }
    const volume = quantityBytes(c.monitoring.volumeSize)!;
    if (c.monitoring.retentionSize !== undefined && byteSizeBytes(c.monitoring.retentionSize)! >= volume * 0.95) {
      ctx.addIssue({
        code: 'custom',
        path: ['monitoring', 'retentionSize'],
        message: `(${c.monitoring.retentionSize}) must stay below 95% of monitoring.volumeSize (${c.monitoring.volumeSize}), or Prometheus fills its disk before it deletes old blocks`,
      });
    }
    const sloPeriod = sloPeriodProblem(c.slo.period, c.monitoring.retention);
    if (sloPeriod !== undefined) ctx.addIssue({ code: 'custom', path: ['slo', 'period'], message: sloPeriod });
    if (c.port === c.metricsPort) {
      ctx.addIssue({ code: 'custom', path: ['metricsPort'], message: `(${c.metricsPort}) must differ from port` });
    }
    if (durationSeconds(c.alerts.window)! < 2 * interval) {
      ctx.addIssue({
        code: 'custom',
        path: ['alerts', 'window'],
        message: `(${c.alerts.window}) must cover at least two scrapes (monitoring.scrapeInterval ${c.monitoring.scrapeInterval}) for rate() to answer`,
      });
    }
  });

type Parsed = z.output<typeof configSchema>;

/** The resolved configuration: every default applied, derived values filled in. */
export interface DeployConfig extends Parsed {
  readonly database: Parsed['database'] & { readonly deploy: boolean; readonly secretName: string };
  readonly monitoring: Parsed['monitoring'] & { readonly retentionSize: string; readonly selectorLabels: Record<string, string> };
}

export class DeployConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid deploy configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'DeployConfigError';
  }
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  return path.reduce<unknown>((v, k) => (v !== null && typeof v === 'object' ? (v as Record<PropertyKey, unknown>)[k] : undefined), input);
}

/** Applies defaults to `input` (a parsed config file, or {}) and checks it. */
export function resolveConfig(input: unknown = {}): DeployConfig {
  const parsed = configSchema.safeParse(input ?? {});
  if (!parsed.success) {
    throw new DeployConfigError(
      parsed.error.issues.map((issue) => {
        const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((k) => [...issue.path, k]) : [issue.path];
        return keys
          .map((path) => {
            const key = path.map(String).join('.');
            if (issue.code === 'unrecognized_keys') return `${key}: is not a known key`;
            const value = valueAt(input, path);
            return `${key}${value === undefined ? '' : ` = ${JSON.stringify(value)}`}: ${issue.message}`;
          })
          .join('\n  ');
      }),
    );
  }
  const c = parsed.data;
  const deploy = c.database.deploy ?? c.profile === 'local';
  return {
    ...c,
    database: { ...c.database, deploy, secretName: c.database.secretName ?? `${c.name}-database` },
    monitoring: {
      ...c.monitoring,
      retentionSize: c.monitoring.retentionSize ?? formatByteSize(quantityBytes(c.monitoring.volumeSize)! * 0.8),
      selectorLabels: c.monitoring.selectorLabels ?? { prometheus: c.name },
    },
  };
}

/** Reads the config file named by `--config` or SYNTH_CONFIG, if any, and resolves it. */
export function loadDeployConfig(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): DeployConfig {
  const flag = argv.indexOf('--config');
  const file = flag >= 0 ? argv[flag + 1] : env.SYNTH_CONFIG || undefined;
  if (file === undefined) return resolveConfig({});
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DeployConfigError([`config file ${file}: ${(err as Error).message}`]);
  }
  return resolveConfig(parseYaml(text) ?? {});
}
