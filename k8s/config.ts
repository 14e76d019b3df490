/**
 * The deployment's typed configuration, with the defaults documented in the README. Users
 * override any key in a YAML or JSON file named by SYNTH_CONFIG (or `--config <file>`) without
 * editing code; an invalid value fails the synth with the key and the value named.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEFAULT_METRICS_PORT, DEFAULT_PORT, RUNBOOKS_PATH } from '../src/contract';
import { grafanaSchema } from './dashboard/config';
import { sloPeriodProblem, sloSchema } from './slo';
import { byteSizeBytes, durationSeconds, formatByteSize, quantityBytes } from './units';

const dns1123 = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case, digits, -)')
  .max(52, 'must be at most 52 characters (room for suffixes)');
// The pattern (not only a refinement) so that the chart's values.schema.json, generated from this schema, checks it too.
const duration = z
  .string()
  .regex(/^(\d+y)?(\d+w)?(\d+d)?(\d+h)?(\d+m)?(\d+s)?(\d+ms)?$/, 'must be a Prometheus duration like 30s, 5m, 15d')
  .refine((s) => durationSeconds(s) !== undefined, 'must be a Prometheus duration like 30s, 5m, 15d');
const quantity = z.string().refine((s) => quantityBytes(s) !== undefined, 'must be a Kubernetes quantity like 10Gi');
const cpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'must be a CPU quantity like 100m or 1');
const resources = z.strictObject({
  requests: z.strictObject({ cpu, memory: quantity }),
  limits: z.strictObject({ cpu: cpu.optional(), memory: quantity }),
});
const severity = z.enum(['critical', 'warning', 'info']);
const labels = z.record(
  z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label key'),
  z
    .string()
    .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label value')
    .max(63),
);
const alert = <T extends z.ZodRawShape>(shape: T) => z.strictObject({ for: duration, severity, ...shape });

/** A NetworkPolicy peer (networking.k8s.io/v1 NetworkPolicyPeer), checked for shape only. */
const labelSelector = z.strictObject({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z
    .array(
      z.strictObject({
        key: z.string().min(1),
        operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
        values: z.array(z.string()).optional(),
      }),
    )
    .optional(),
});
const networkPolicyPeer = z.strictObject({
  podSelector: labelSelector.optional(),
  namespaceSelector: labelSelector.optional(),
  ipBlock: z.strictObject({ cidr: z.string().min(1), except: z.array(z.string()).optional() }).optional(),
});
const networkPolicyPort = z.strictObject({
  port: z.union([z.number().int().min(1).max(65535), z.string().min(1)]).optional(),
  endPort: z.number().int().min(1).max(65535).optional(),
  protocol: z.enum(['TCP', 'UDP', 'SCTP']).optional(),
});
/** A NetworkPolicy egress rule (networking.k8s.io/v1 NetworkPolicyEgressRule). */
const egressRule = z.strictObject({ to: z.array(networkPolicyPeer).optional(), ports: z.array(networkPolicyPort).optional() });
const peers = (what: string) => z.array(networkPolicyPeer).min(1, `must name at least one peer (an empty list would admit ${what})`);
/** Any address: for destinations outside the cluster whose addresses the chart cannot know. */
const ANYWHERE = [{ ipBlock: { cidr: '0.0.0.0/0' } }];
const storage = (size: string) => z.strictObject({ size: quantity.default(size), storageClass: z.string().min(1).optional() }).prefault({});
const absoluteUrl = z
  .string()
  .refine(
    (s) => /^https?:\/\/[^/\s]+/.test(s) && URL.canParse(s),
    'must be an absolute http(s) URL (alerts reach people through Alertmanager, Slack or a pager, where a relative link is dead)',
  );

/**
 * The API serves docs/runbooks.md itself at /runbooks, so the default link works wherever the
 * API is reached on localhost:8080 (npm start, monitoring:local, skaffold's port-forward).
 * Operators point alerts.runbookBaseUrl at their own copy.
 */
export const DEFAULT_RUNBOOK_BASE_URL = `http://localhost:${DEFAULT_PORT}${RUNBOOKS_PATH}`;

export const configSchema = z
  .strictObject({
    /** App name: also the Service name and so the Prometheus job name. */
    name: dns1123.default('rest-api'),
    namespace: dns1123.default('rest-api'),
    image: z
      .strictObject({
        repository: z.string().min(1).default('rest-api'),
        tag: z.string().min(1).default('0.1.0'),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
        /** Names of Secrets holding registry credentials (imagePullSecrets). */
        pullSecrets: z.array(dns1123).default([]),
      })
      .prefault({}),
    /** Helm: replaces the chart name in object names (the synth names objects by `name`). */
    nameOverride: dns1123.optional(),
    /** Helm: the full object name prefix instead of <release>-<chart> (the synth names objects by `name`). */
    fullnameOverride: dns1123.optional(),
    /** The API's service account: created by default; create: false uses `name`, which must exist. */
    serviceAccount: z.strictObject({ create: z.boolean().default(true), name: dns1123.optional() }).prefault({}),
    /** Extra annotations and labels on the API's pods. */
    podAnnotations: z.record(z.string().min(1), z.string()).default({}),
    podLabels: labels.default({}),
    /** Scheduling of the API's pods, as in a PodSpec. */
    nodeSelector: z.record(z.string().min(1), z.string()).default({}),
    tolerations: z.array(z.record(z.string(), z.unknown())).default([]),
    affinity: z.record(z.string(), z.unknown()).default({}),
    replicas: z.number().int().min(2, 'must be at least 2 so a rollout or a node drain keeps the API up').default(2),
    port: z.number().int().min(1024).max(65535).default(DEFAULT_PORT),
    metricsPort: z.number().int().min(1024).max(65535).default(DEFAULT_METRICS_PORT),
    resources: resources.default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
    /** Seconds the API may take to finish in-flight requests after SIGTERM. */
    shutdownTimeoutSeconds: z.number().int().min(1).max(600).default(10),
    /** Seconds the pod keeps serving after it is removed from endpoints, before SIGTERM. */
    preStopSeconds: z.number().int().min(0).max(60).default(5),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info'),
    faultInjection: z.boolean().default(false),
    database: z
      .strictObject({
        /** Secret holding the database URL. Set: nothing database-related is rendered. Unset: a development PostgreSQL is. */
        existingSecret: dns1123.optional(),
        /** Key of existingSecret that holds the URL. */
        existingSecretKey: z.string().min(1).default('DATABASE_URL'),
        /** The development PostgreSQL, rendered only without existingSecret. */
        postgres: z.strictObject({ image: z.string().min(1).default('postgres:15.14-bookworm'), storage: storage('1Gi') }).prefault({}),
      })
      .prefault({}),
    serviceMonitor: z
      .strictObject({
        enabled: z.boolean().default(true),
        interval: duration.default('10s'),
        scrapeTimeout: duration.default('5s'),
        /** Scrapes returning more samples than this fail, so a label explosion cannot take Prometheus down. */
        sampleLimit: z.number().int().min(100).default(5000),
        /** Labels a Prometheus selects ServiceMonitors by, e.g. {release: kps} for kube-prometheus-stack. */
        additionalLabels: labels.default({}),
      })
      .prefault({}),
    prometheusRule: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Labels a Prometheus selects rules by, e.g. {release: kps}. */
        additionalLabels: labels.default({}),
      })
      .prefault({}),
    prometheus: z
      .strictObject({
        /** Deploy a Prometheus of the app's own. false: the cluster's (e.g. kube-prometheus-stack's) scrapes it. */
        enabled: z.boolean().default(true),
        replicas: z.number().int().min(1).default(1),
        evaluationInterval: duration.default('15s'),
        retention: duration.default('15d'),
        /** Defaults to 80% of the volume size. */
        retentionSize: z
          .string()
          .refine((s) => byteSizeBytes(s) !== undefined, 'must be a Prometheus size like 8GiB')
          .optional(),
        storage: storage('10Gi'),
        resources: resources.default({ requests: { cpu: '100m', memory: '400Mi' }, limits: { memory: '1Gi' } }),
      })
      .prefault({}),
    alertmanager: z
      .strictObject({
        /** Deploy an Alertmanager that the bundled Prometheus sends its alerts to. */
        enabled: z.boolean().default(true),
        /** Keeps silences and the notification log across restarts. */
        storage: storage('1Gi'),
      })
      .prefault({}),
    networkPolicy: z
      .strictObject({
        enabled: z.boolean().default(true),
        /**
         * Who may scrape the metrics port. Default: the bundled Prometheus's pods when it is
         * enabled, otherwise pods labelled app.kubernetes.io/name: prometheus in any namespace.
         */
        metricsFrom: z.array(networkPolicyPeer).min(1, 'must name at least one peer (an empty list would admit nobody)').optional(),
        /**
         * Who may reach the API port. Default: the pods of the app's namespace. Add the ingress
         * controller's or gateway's pods, e.g. {namespaceSelector: {matchLabels:
         * {kubernetes.io/metadata.name: ingress-nginx}}}.
         */
        apiFrom: peers('nobody').default([{ podSelector: {} }]),
        /** Who may query the bundled Prometheus's web port (9090). Default: the pods of the app's namespace. */
        prometheusFrom: peers('nobody').default([{ podSelector: {} }]),
        /** The cluster DNS every pod resolves names with (kube-dns and CoreDNS pods both carry k8s-app: kube-dns). */
        dns: peers('no DNS server').default([
          {
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
            podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
          },
        ]),
        /** Where the bundled Prometheus reaches the Kubernetes API for service discovery (ports 443 and 6443). */
        kubeApiServer: peers('no API server').default(ANYWHERE),
        /** An external database (database.existingSecret): its address and port. */
        externalDatabase: z
          .strictObject({ to: peers('no database').default(ANYWHERE), port: z.number().int().min(1).max(65535).default(5432) })
          .prefault({}),
        /** Egress rules added to each component's own: the API (a JWKS host), Prometheus (remote write), Alertmanager (its receivers). */
        extraEgress: z
          .strictObject({
            api: z.array(egressRule).default([]),
            prometheus: z.array(egressRule).default([]),
            /** Receivers: HTTPS anywhere by default (webhooks, Slack, PagerDuty); add SMTP's port if you mail. */
            alertmanager: z.array(egressRule).default([{ ports: [{ port: 443, protocol: 'TCP' }] }]),
          })
          .prefault({}),
      })
      .prefault({}),
    alerts: z
      .strictObject({
        /** Where docs/runbooks.md is served; `#<alert>` is appended to form each alert's runbook_url. */
        runbookBaseUrl: absoluteUrl.default(DEFAULT_RUNBOOK_BASE_URL),
        /** Rate window of the rate-based alerts. */
        window: duration.default('5m'),
        highErrorRate: alert({ perSecond: z.number().positive() }).default({ perSecond: 0.1, for: '5m', severity: 'critical' }),
        highResponseTime: alert({
          quantile: z.number().gt(0).lt(1),
          seconds: z.number().positive(),
          /** Below this request rate on a route, its quantile is noise and the alert stays silent. */
          minRequestsPerSecond: z.number().positive(),
        }).default({ quantile: 0.95, seconds: 1, minRequestsPerSecond: 0.1, for: '5m', severity: 'warning' }),
        highErrorRatio: alert({ ratio: z.number().gt(0).lt(1) }).default({ ratio: 0.05, for: '5m', severity: 'critical' }),
        targetDown: alert({}).default({ for: '2m', severity: 'warning' }),
        targetMissing: alert({}).default({ for: '5m', severity: 'critical' }),
        notReady: alert({}).default({ for: '3m', severity: 'critical' }),
        restarting: alert({ restarts: z.number().int().min(1), window: duration }).default({
          restarts: 3,
          window: '15m',
          for: '0s',
          severity: 'warning',
        }),
      })
      .prefault({}),
    /** The plain Prometheus files (dist/local/) for running without Kubernetes. */
    local: z
      .strictObject({
        /** The host:port the plain prometheus.yml scrapes (the API run locally). */
        target: z.string().min(1).default(`localhost:${DEFAULT_PORT}`),
        /** Alertmanager the plain prometheus.yml sends alerts to. */
        alertmanager: z.string().min(1).default('localhost:9093'),
      })
      .prefault({}),
    /** Service level objectives and their burn-rate alerts (k8s/slo.ts). */
    slo: sloSchema.prefault({}),
    /** The Grafana dashboard (k8s/dashboard/). */
    grafana: grafanaSchema.prefault({}),
  })
  .superRefine((c, ctx) => {
    const problem = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message });
    const interval = durationSeconds(c.serviceMonitor.interval)!;
    if (durationSeconds(c.serviceMonitor.scrapeTimeout)! > interval) {
      problem(
        ['serviceMonitor', 'scrapeTimeout'],
        `(${c.serviceMonitor.scrapeTimeout}) must not exceed serviceMonitor.interval (${c.serviceMonitor.interval})`,
      );
    }
    const volume = quantityBytes(c.prometheus.storage.size)!;
    if (c.prometheus.retentionSize !== undefined && byteSizeBytes(c.prometheus.retentionSize)! >= volume * 0.95) {
      problem(
        ['prometheus', 'retentionSize'],
        `(${c.prometheus.retentionSize}) must stay below 95% of prometheus.storage.size (${c.prometheus.storage.size}), or Prometheus fills its disk before it deletes old blocks`,
      );
    }
    // The SLO period must fit in what the bundled Prometheus keeps; the cluster's own retention is
    // the operator's to match (README: install next to kube-prometheus-stack).
    const sloPeriod = c.prometheus.enabled ? sloPeriodProblem(c.slo.period, c.prometheus.retention) : undefined;
    if (sloPeriod !== undefined) problem(['slo', 'period'], sloPeriod);
    if (c.port === c.metricsPort) problem(['metricsPort'], `(${c.metricsPort}) must differ from port`);
    for (const [path, window] of [
      [['alerts', 'window'], c.alerts.window],
      [['alerts', 'restarting', 'window'], c.alerts.restarting.window],
    ] as const) {
      if (durationSeconds(window)! < 4 * interval) {
        problem(
          [...path],
          `(${window}) must cover at least 4 scrapes (serviceMonitor.interval ${c.serviceMonitor.interval}), or one missed scrape leaves rate() without data`,
        );
      }
    }
    if (c.alertmanager.enabled && !c.prometheus.enabled) {
      problem(
        ['alertmanager', 'enabled'],
        "(true) needs prometheus.enabled: only the bundled Prometheus sends to the bundled Alertmanager; with the cluster's Prometheus, route the app's alerts with an AlertmanagerConfig in the cluster's Alertmanager",
      );
    }
    if (!c.serviceAccount.create && c.serviceAccount.name === undefined) {
      problem(['serviceAccount', 'name'], 'must name an existing service account when serviceAccount.create is false');
    }
    if (c.prometheus.enabled && !c.serviceMonitor.enabled) {
      problem(
        ['prometheus', 'enabled'],
        '(true) needs serviceMonitor.enabled: the bundled Prometheus scrapes the app through its ServiceMonitor',
      );
    }
  });

type Parsed = z.output<typeof configSchema>;

/** The resolved configuration: every default applied, derived values filled in. */
export interface DeployConfig extends Parsed {
  /** app.kubernetes.io/instance: the app name for the synth (the release name in the chart). */
  readonly instance: string;
  readonly database: Parsed['database'] & {
    /** Whether the development PostgreSQL is rendered (no existingSecret). */
    readonly deploy: boolean;
    /** The Secret the API reads its database URL from, and its key. */
    readonly secretName: string;
    readonly secretKey: string;
  };
  readonly prometheus: Parsed['prometheus'] & { readonly retentionSize: string };
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
  const existing = c.database.existingSecret;
  return {
    ...c,
    instance: c.name,
    database: {
      ...c.database,
      deploy: existing === undefined,
      secretName: existing ?? `${c.name}-database`,
      secretKey: existing === undefined ? 'DATABASE_URL' : c.database.existingSecretKey,
    },
    prometheus: {
      ...c.prometheus,
      retentionSize: c.prometheus.retentionSize ?? formatByteSize(quantityBytes(c.prometheus.storage.size)! * 0.8),
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
