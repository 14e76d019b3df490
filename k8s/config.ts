/**
 * The deployment's typed configuration, with the defaults documented in the README. Users
 * override any key in a YAML or JSON file named by SYNTH_CONFIG (or `--config <file>`) without
 * editing code; an invalid value fails the synth with the key and the value named.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import {
  AUTH_MODES,
  AUTH_READS,
  DEFAULT_JWT_ALGORITHMS,
  DEFAULT_METRICS_PORT,
  DEFAULT_PORT,
  DEFAULT_WRITE_SCOPE,
  DURATION_BUCKETS,
  JWT_ALGORITHMS,
  METRIC,
  RUNBOOKS_PATH,
} from '../src/contract';
import { grafanaSchema } from './dashboard/config';
import { byteSizeBytes, durationSchema as duration, durationSeconds, quantityBytes } from './units';

const dns1123 = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS-1123 label (lower case, digits, -)')
  .max(52, 'must be at most 52 characters (room for suffixes)');
const quantity = z.string().refine((s) => quantityBytes(s) !== undefined, 'must be a Kubernetes quantity like 10Gi');
const cpu = z.string().regex(/^\d+(\.\d+)?m?$/, 'must be a CPU quantity like 100m or 1');
const resources = z.strictObject({
  requests: z.strictObject({ cpu, memory: quantity }),
  limits: z.strictObject({ cpu: cpu.optional(), memory: quantity }),
});
const severity = z.enum(['critical', 'warning', 'info']);
const labelValue = z
  .string()
  .regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/, 'must be a label value')
  .max(63);
const labels = z.record(z.string().regex(/^([a-z0-9.-]+\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/, 'must be a label key'), labelValue);

/** Label keys the selectors are made of: extra labels may not set them, or a selector would stop selecting. */
export const SELECTOR_LABEL_KEYS = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/component'] as const;
const SELECTOR_LABELS_MESSAGE = 'is a selector label of the chart: extra labels may not set it';
const extraLabels = labels.superRefine((m, ctx) => {
  for (const key of SELECTOR_LABEL_KEYS) {
    if (key in m) ctx.addIssue({ code: 'custom', path: [key], message: SELECTOR_LABELS_MESSAGE });
  }
});

/** Passed through to Kubernetes as written (a PodSpec field, a Prometheus field): checked by the API server. */
const passThrough = z.record(z.string(), z.unknown());

/** An alert's common settings, each with its default, and its own. */
const alert = <T extends z.ZodRawShape>(defaults: { for: string; severity: z.infer<typeof severity> }, shape: T) =>
  z
    .strictObject({
      /** false: the alert is not rendered. */
      enabled: z.boolean().default(true),
      for: duration.default(defaults.for),
      severity: severity.default(defaults.severity),
      ...shape,
    })
    // Each field has its default, so {} parses.
    .prefault({} as never);

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
const absoluteUrl = z.string().refine(
  // No quotes, braces or spaces: the URL is printed inside YAML strings and Helm templates.
  (s) => /^https?:\/\/[^/\s]+/.test(s) && !/[\s"'{}]/.test(s) && URL.canParse(s),
  'must be an absolute http(s) URL (alerts reach people through Alertmanager, Slack or a pager, where a relative link is dead)',
);
/** An image version the operator runs (Prometheus, Alertmanager); empty: the operator's default. */
const imageVersion = z
  .string()
  .regex(/^(v?\d+\.\d+\.\d+[-+.A-Za-z0-9]*)?$/, "must be a version like v3.5.0, or empty for the operator's default")
  .default('');
const ms = (max: number, dflt: number) => z.number().int().min(1).max(max).default(dflt);
const objective = z.number().gt(0, 'must be a percentage above 0').lt(100, 'must be a percentage below 100 (100% leaves no error budget)');

/** Service level objectives and their burn-rate alerts (k8s/slo.ts). */
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
    /** Helm: values an umbrella chart shares with its subcharts; accepted, not read. */
    global: passThrough.default({}),
    image: z
      .strictObject({
        repository: z.string().min(1).default('rest-api'),
        tag: z.string().min(1).default('0.1.0'),
        /** sha256:<64 hex>: the image is pulled by digest (repository@digest), the tag only labels it. */
        digest: z
          .string()
          .regex(/^sha256:[a-f0-9]{64}$/, 'must be sha256: and 64 hex digits')
          .optional(),
        pullPolicy: z.enum(['Always', 'IfNotPresent', 'Never']).default('IfNotPresent'),
        /** Names of Secrets holding registry credentials (imagePullSecrets). */
        pullSecrets: z.array(dns1123).default([]),
      })
      .prefault({}),
    /** Helm: replaces the chart name in object names (the synth names objects by `name`). */
    nameOverride: dns1123.optional(),
    /** Helm: the full object name prefix instead of <release>-<chart> (the synth names objects by `name`). */
    fullnameOverride: dns1123.optional(),
    /** Labels added to every object (never to selectors). */
    commonLabels: extraLabels.default({}),
    /** The API's service account: created by default; create: false uses `name`, which must exist. */
    serviceAccount: z
      .strictObject({
        create: z.boolean().default(true),
        name: dns1123.optional(),
        annotations: z.record(z.string().min(1), z.string()).default({}),
      })
      .prefault({}),
    /** Extra annotations and labels on the API's pods. */
    podAnnotations: z.record(z.string().min(1), z.string()).default({}),
    podLabels: extraLabels.default({}),
    /** Scheduling of the API's pods, as in a PodSpec. */
    nodeSelector: z.record(z.string().min(1), z.string()).default({}),
    tolerations: z.array(passThrough).default([]),
    affinity: passThrough.default({}),
    /** As in a PodSpec; a constraint without labelSelector selects the API's pods. */
    topologySpreadConstraints: z.array(passThrough).default([
      { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
      { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
    ]),
    priorityClassName: z.string().default(''),
    replicas: z.number().int().min(2, 'must be at least 2 so a rollout or a node drain keeps the API up').default(2),
    port: z.number().int().min(1024).max(65535).default(DEFAULT_PORT),
    metricsPort: z.number().int().min(1024).max(65535).default(DEFAULT_METRICS_PORT),
    service: z
      .strictObject({
        type: z.enum(['ClusterIP', 'NodePort', 'LoadBalancer']).default('ClusterIP'),
        /** Port of the API on the Service. */
        port: z.number().int().min(1).max(65535).default(80),
        annotations: z.record(z.string().min(1), z.string()).default({}),
      })
      .prefault({}),
    resources: resources.default({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } }),
    /** The probes of the API container, as in a Container; replace one whole to change it. */
    livenessProbe: passThrough.default({
      httpGet: { path: '/healthz', port: 'http' },
      periodSeconds: 10,
      failureThreshold: 3,
      timeoutSeconds: 3,
    }),
    readinessProbe: passThrough.default({
      httpGet: { path: '/readyz', port: 'http' },
      periodSeconds: 5,
      failureThreshold: 2,
      timeoutSeconds: 3,
    }),
    startupProbe: passThrough.default({ httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 2, failureThreshold: 30 }),
    /** Security context of the API pod and container (Pod Security restricted by default). */
    podSecurityContext: passThrough.default({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: 'RuntimeDefault' },
    }),
    securityContext: passThrough.default({
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    }),
    /** Extra environment variables, envFrom sources, volumes and mounts of the API container, as in a PodSpec. */
    env: z.array(z.looseObject({ name: z.string().min(1) })).default([]),
    envFrom: z.array(passThrough).default([]),
    volumes: z.array(z.looseObject({ name: z.string().min(1) })).default([]),
    volumeMounts: z.array(z.looseObject({ name: z.string().min(1), mountPath: z.string().min(1) })).default([]),
    /** Seconds the API may take to finish in-flight requests after SIGTERM (SHUTDOWN_TIMEOUT_MS). */
    shutdownTimeoutSeconds: z.number().int().min(1).max(600).default(10),
    /** Seconds the pod keeps serving after it is removed from endpoints, before SIGTERM. */
    preStopSeconds: z.number().int().min(0).max(60).default(5),
    /** LOG_LEVEL of the API. */
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** FAULT_INJECTION: honour the fault headers (demos and alert tests only). */
    faultInjection: z.boolean().default(false),
    /** The API's HTTP server (README, Configuration). */
    server: z
      .strictObject({
        /** HEADERS_TIMEOUT_MS */
        headersTimeoutMs: ms(600_000, 10_000),
        /** REQUEST_TIMEOUT_MS, at least headersTimeoutMs. */
        requestTimeoutMs: ms(600_000, 30_000),
        /** KEEP_ALIVE_TIMEOUT_MS */
        keepAliveTimeoutMs: ms(600_000, 5_000),
        /** MAX_REQUESTS_PER_SOCKET; 0: no limit. */
        maxRequestsPerSocket: z.number().int().min(0).max(1_000_000).default(100),
        /** MAX_IN_FLIGHT */
        maxInFlight: z.number().int().min(1).max(100_000).default(256),
      })
      .prefault({}),
    /** Who may write (and read) items: the API's AUTH_* settings (README, Authentication and rate limits). */
    auth: z
      .strictObject({
        /** AUTH_MODE. `none` lets anyone who reaches the Service change every item: for a throwaway cluster only. */
        mode: z.enum(AUTH_MODES).default('api-key'),
        /** AUTH_READS: `open`, or `authenticated` (reads need a credential too). */
        reads: z.enum(AUTH_READS).default('open'),
        /**
         * api-key mode: the Secret holding the keys, one per line, under existingSecretKey. Unset: a
         * Secret <name>-api-keys is made in the cluster with one random key the first time, and kept.
         */
        existingSecret: dns1123.optional(),
        existingSecretKey: z
          .string()
          .regex(/^[-._a-zA-Z0-9]+$/, 'must be a Secret key (letters, digits, -, _ and .)')
          .default('API_KEYS'),
        /** jwt mode: the issuer's key set, the token's iss and aud, and what a token needs to write. */
        jwt: z
          .strictObject({
            jwksUrl: absoluteUrl.optional(),
            issuer: z.string().min(1).optional(),
            audience: z.string().min(1).optional(),
            algorithms: z
              .array(z.enum(JWT_ALGORITHMS))
              .min(1)
              .default([...DEFAULT_JWT_ALGORITHMS]),
            writeScope: z
              .string()
              .regex(/^[!#-[\]-~]+$/, 'must be one scope token (no spaces or quotes)')
              .default(DEFAULT_WRITE_SCOPE),
          })
          .prefault({}),
      })
      .prefault({}),
    /** Requests per second per caller (API key, token subject or client address), in each pod. */
    rateLimit: z
      .strictObject({
        /** RATE_LIMIT_RPS; 0: no limit. */
        requestsPerSecond: z.number().min(0).max(1_000_000).default(50),
        /** RATE_LIMIT_BURST: requests a caller may send at once. */
        burst: z.number().int().min(1).max(10_000_000).default(100),
        /** RATE_LIMIT_AUTH_FAILURES: failed authentications per client address and minute; 0: no limit. */
        authFailuresPerMinute: z.number().int().min(0).max(1_000_000).default(30),
        /** TRUST_PROXY_HOPS: proxies (ingress controller, gateway) in front of the pods whose X-Forwarded-For entry names the client. */
        trustedProxyHops: z.number().int().min(0).max(10).default(0),
      })
      .prefault({}),
    database: z
      .strictObject({
        /** Secret holding the database URL. Set: nothing database-related is rendered. Unset: a development PostgreSQL is. */
        existingSecret: dns1123.optional(),
        /** Key of existingSecret that holds the URL. */
        existingSecretKey: z.string().min(1).default('DATABASE_URL'),
        /** DB_POOL_MAX: connections in the pool. */
        poolMax: z.number().int().min(1).max(100).default(10),
        /** DB_POOL_WAIT_MS */
        poolWaitMs: ms(60_000, 2_000),
        /** DB_STATEMENT_TIMEOUT_MS */
        statementTimeoutMs: ms(600_000, 5_000),
        /**
         * A Secret (or ConfigMap) key holding the CA that signed the database server's certificate:
         * mounted as DATABASE_CA_FILE, so the API requires TLS and verifies the server (verify-full).
         */
        ca: z
          .strictObject({
            secret: dns1123.optional(),
            configMap: dns1123.optional(),
            key: z.string().min(1).default('ca.crt'),
          })
          .prefault({}),
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
        additionalLabels: extraLabels.default({}),
      })
      .prefault({}),
    prometheusRule: z
      .strictObject({
        enabled: z.boolean().default(true),
        /** Labels a Prometheus selects rules by, e.g. {release: kps}. */
        additionalLabels: extraLabels.default({}),
        /** Rule groups of your own, appended as written (Prometheus rule group syntax). */
        additionalRuleGroups: z.array(z.looseObject({ name: z.string().min(1), rules: z.array(passThrough) })).default([]),
      })
      .prefault({}),
    prometheus: z
      .strictObject({
        /** Deploy a Prometheus of the app's own. false: the cluster's (e.g. kube-prometheus-stack's) scrapes it. */
        enabled: z.boolean().default(true),
        /** Prometheus version the operator runs; empty: the operator's default. */
        version: imageVersion,
        replicas: z.number().int().min(1).default(1),
        evaluationInterval: duration.default('15s'),
        retention: duration.default('15d'),
        /**
         * Prometheus deletes old blocks beyond this size. Explicit, not derived from the volume: the
         * operator does not grow a bound volume when storage.size is raised.
         */
        retentionSize: z
          .string()
          .refine((s) => byteSizeBytes(s) !== undefined, 'must be a Prometheus size like 8GiB')
          .default('8GiB'),
        storage: storage('10Gi'),
        resources: resources.default({ requests: { cpu: '100m', memory: '400Mi' }, limits: { memory: '1Gi' } }),
        /** Labels added to every series and alert this Prometheus sends out (federation, remote write). */
        externalLabels: z.record(z.string().min(1), z.string()).default({}),
        /** Remote write targets, passed through to the Prometheus resource (spec.remoteWrite). */
        remoteWrite: z.array(passThrough).default([]),
      })
      .prefault({}),
    alertmanager: z
      .strictObject({
        /** Deploy an Alertmanager that the bundled Prometheus sends its alerts to. */
        enabled: z.boolean().default(true),
        /** Alertmanager version the operator runs; empty: the operator's default. */
        version: imageVersion,
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
        /** Where the bundled Prometheus (service discovery) and the Secret makers reach the Kubernetes API (ports 443 and 6443). */
        kubeApiServer: peers('no API server').default(ANYWHERE),
        /** An external database (database.existingSecret): its address and port. */
        externalDatabase: z
          .strictObject({ to: peers('no database').default(ANYWHERE), port: z.number().int().min(1).max(65535).default(5432) })
          .prefault({}),
        /** Where the API fetches auth.jwt.jwksUrl from (jwt mode), on the URL's port. */
        jwksTo: peers('no key server').default(ANYWHERE),
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
        highErrorRate: alert({ for: '5m', severity: 'critical' }, { perSecond: z.number().positive().default(0.1) }),
        highResponseTime: alert(
          { for: '5m', severity: 'warning' },
          {
            quantile: z.number().gt(0).lt(1).default(0.95),
            seconds: z.number().positive().default(1),
            /** Below this request rate on a route, its quantile is noise and the alert stays silent. */
            minRequestsPerSecond: z.number().positive().default(0.1),
          },
        ),
        highErrorRatio: alert({ for: '5m', severity: 'critical' }, { ratio: z.number().gt(0).lt(1).default(0.05) }),
        targetDown: alert({ for: '2m', severity: 'warning' }, {}),
        targetMissing: alert({ for: '5m', severity: 'critical' }, {}),
        notReady: alert({ for: '3m', severity: 'critical' }, {}),
        restarting: alert(
          { for: '0s', severity: 'warning' },
          { restarts: z.number().int().min(1).default(3), window: duration.default('15m') },
        ),
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
    if (byteSizeBytes(c.prometheus.retentionSize)! >= volume * 0.95) {
      problem(
        ['prometheus', 'retentionSize'],
        `(${c.prometheus.retentionSize}) must stay below 95% of prometheus.storage.size (${c.prometheus.storage.size}), or Prometheus fills its disk before it deletes old blocks`,
      );
    }
    // The SLO period must fit in what the bundled Prometheus keeps; the cluster's own retention is
    // the operator's to match (README: install next to kube-prometheus-stack).
    if (c.prometheus.enabled && durationSeconds(c.slo.period)! > durationSeconds(c.prometheus.retention)!) {
      problem(
        ['slo', 'period'],
        `(${c.slo.period}) must not be longer than the Prometheus retention (prometheus.retention ${c.prometheus.retention})`,
      );
    }
    if (c.server.requestTimeoutMs < c.server.headersTimeoutMs) {
      problem(
        ['server', 'requestTimeoutMs'],
        `(${c.server.requestTimeoutMs}) must not be less than server.headersTimeoutMs (${c.server.headersTimeoutMs})`,
      );
    }
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
    if (c.auth.mode === 'jwt') {
      for (const key of ['jwksUrl', 'issuer', 'audience'] as const) {
        if (c.auth.jwt[key] === undefined) problem(['auth', 'jwt', key], 'is required when auth.mode is jwt');
      }
    }
    if (c.auth.existingSecret !== undefined && c.auth.mode !== 'api-key') {
      problem(['auth', 'existingSecret'], `is read only when auth.mode is api-key (it is ${c.auth.mode})`);
    }
    if (c.database.ca.secret !== undefined && c.database.ca.configMap !== undefined) {
      problem(['database', 'ca', 'configMap'], 'set either database.ca.secret or database.ca.configMap, not both');
    }
    if ((c.database.ca.secret ?? c.database.ca.configMap) !== undefined && c.database.existingSecret === undefined) {
      problem(
        ['database', 'ca'],
        'needs database.existingSecret: the development PostgreSQL speaks no TLS (its URL would not ask for verify-full)',
      );
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
  readonly auth: Parsed['auth'] & {
    /** api-key mode: the Secret of the keys file and its key; whether the cluster makes it (no existingSecret). */
    readonly keys?: { readonly secretName: string; readonly secretKey: string; readonly ensure: boolean };
  };
  readonly database: Parsed['database'] & {
    /** Whether the development PostgreSQL is rendered (no existingSecret). */
    readonly deploy: boolean;
    /** The Secret the API reads its database URL from, and its key. */
    readonly secretName: string;
    readonly secretKey: string;
  };
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

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * `input` over `defaults` as Helm coalesces a values file with values.yaml: maps merge key by
 * key, anything else (lists included) replaces. So a file that sets one field of a probe or a
 * security context means the same to the synth as to the chart.
 */
export function coalesce(defaults: unknown, input: unknown): unknown {
  if (!isMap(defaults) || !isMap(input)) return input === undefined ? defaults : input;
  const out: Record<string, unknown> = { ...defaults };
  for (const [k, v] of Object.entries(input)) out[k] = coalesce(defaults[k], v);
  return out;
}

/** Applies defaults to `input` (a parsed config file, or {}) and checks it. */
export function resolveConfig(input: unknown = {}): DeployConfig {
  // Defaults first as Helm merges them, then the schema (which also fills what a default lacks).
  const merged = isMap(input) ? coalesce(configSchema.parse({}), input) : (input ?? {});
  const parsed = configSchema.safeParse(merged);
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
    auth: {
      ...c.auth,
      ...(c.auth.mode === 'api-key' && {
        keys: {
          secretName: c.auth.existingSecret ?? `${c.name}-api-keys`,
          secretKey: c.auth.existingSecretKey,
          ensure: c.auth.existingSecret === undefined,
        },
      }),
    },
    database: {
      ...c.database,
      deploy: existing === undefined,
      secretName: existing ?? `${c.name}-database`,
      secretKey: existing === undefined ? 'DATABASE_URL' : c.database.existingSecretKey,
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
