/**
 * The chart's own templates, which have no cdk8s object behind them: `_helpers.tpl` (names,
 * labels, image, the checks JSON Schema cannot express), NOTES.txt and the `helm test` pod.
 */
import { API_UID } from './constructs/api';
import { METRIC, READY_PATH } from '../src/contract';

export interface HelperOptions {
  /** Values fixed at their default in the chart, with the JSON of that default (as Helm's toJson prints it). */
  readonly fixed: readonly { path: string; json: string }[];
  /** The rule-content variants the chart carries (rulesKey values). */
  readonly variants: readonly string[];
  readonly defaultRunbook: string;
}

const q = (s: string) => JSON.stringify(s);

/** Where Helm takes what a fixed value would decide (name and namespace are checked against the release). */
const HINTS: Record<string, string> = {};

export function helpersTpl(chart: string, o: HelperOptions): string {
  const fixedChecks = o.fixed
    .map(
      (f) =>
        `{{- if ne (toJson .Values.${f.path}) ${q(f.json)} }}\n{{- fail (printf "${f.path} is fixed in this chart at %s${HINTS[f.path] ?? ''}; render other settings with the synth (SYNTH_CONFIG)" ${q(f.json)}) }}\n{{- end }}`,
    )
    .join('\n');
  return `{{/* Chart name, or nameOverride. */}}
{{- define "${chart}.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/* Object name prefix: <release>-<name>, or the release when it contains the name, or fullnameOverride. 52 characters leave room for suffixes. */}}
{{- define "${chart}.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 52 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 52 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "${chart}.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* app.kubernetes.io/version: the image tag made label-safe (a 64-hex id, a digest), else the appVersion. */}}
{{- define "${chart}.version" -}}
{{- $v := regexReplaceAll "[^-A-Za-z0-9_.]" (toString .Values.image.tag) "-" | trunc 63 | trimAll "-_." }}
{{- default .Chart.AppVersion $v }}
{{- end }}

{{/* The image: repository:tag, or repository@digest when the tag is a digest. */}}
{{- define "${chart}.image" -}}
{{- $tag := toString .Values.image.tag }}
{{- if hasPrefix "sha256:" $tag }}
{{- printf "%s@%s" .Values.image.repository $tag }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{- define "${chart}.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "${chart}.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name must name an existing service account when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The development database's password: the one the release's Secret holds, else a new one. */}}
{{- define "${chart}.databasePassword" -}}
{{- $secret := lookup "v1" "Secret" .Release.Namespace (printf "%s-database" (include "${chart}.fullname" .)) }}
{{- $kept := "" }}
{{- if $secret }}
{{- if $secret.data }}
{{- $kept = index $secret.data "POSTGRES_PASSWORD" | default "" }}
{{- end }}
{{- end }}
{{- if $kept }}
{{- $kept | b64dec }}
{{- else }}
{{- randAlphaNum 32 }}
{{- end }}
{{- end }}

{{/* Seconds in a Prometheus duration. */}}
{{- define "${chart}.seconds" -}}
{{- $units := dict "y" 31536000.0 "w" 604800.0 "d" 86400.0 "h" 3600.0 "m" 60.0 "s" 1.0 "ms" 0.001 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(ms|[ywdhms])" (toString .) -1 }}
{{- $n := regexFind "^[0-9]+" . }}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Bytes in a Kubernetes quantity (10Gi) or a Prometheus size (8GiB). */}}
{{- define "${chart}.bytes" -}}
{{- $n := regexFind "^[0-9]+(\\\\.[0-9]+)?" (toString .) }}
{{- $unit := trimSuffix "B" (trimPrefix $n (toString .)) }}
{{- $units := dict "" 1.0 "K" 1024.0 "Ki" 1024.0 "k" 1000.0 "M" 1048576.0 "Mi" 1048576.0 "G" 1073741824.0 "Gi" 1073741824.0 "T" 1099511627776.0 "Ti" 1099511627776.0 }}
{{- mulf (float64 $n) (get $units $unit) }}
{{- end }}

{{/* prometheus.retentionSize, or 80% of the volume. */}}
{{- define "${chart}.retentionSize" -}}
{{- if .Values.prometheus.retentionSize }}
{{- .Values.prometheus.retentionSize }}
{{- else }}
{{- $mib := floor (divf (mulf (float64 (include "${chart}.bytes" .Values.prometheus.storage.size)) 0.8) 1048576.0) | int64 }}
{{- if eq (mod $mib 1024) 0 }}
{{- printf "%dGiB" (div $mib 1024) }}
{{- else }}
{{- printf "%dMiB" $mib }}
{{- end }}
{{- end }}
{{- end }}

{{/* The alerts (less runbookBaseUrl) and SLO values: they select the rule content. */}}
{{- define "${chart}.rulesKey" -}}
{{- toJson (dict "alerts" (omit .Values.alerts "runbookBaseUrl") "slo" .Values.slo) }}
{{- end }}

{{/* The relations between values that values.schema.json cannot express, as the synth checks them (k8s/config.ts). */}}
{{- define "${chart}.validate" -}}
{{- $v := .Values }}
{{- $interval := float64 (include "${chart}.seconds" $v.serviceMonitor.interval) }}
{{- if gt (float64 (include "${chart}.seconds" $v.serviceMonitor.scrapeTimeout)) $interval }}
{{- fail (printf "serviceMonitor.scrapeTimeout (%s) must not exceed serviceMonitor.interval (%s)" $v.serviceMonitor.scrapeTimeout $v.serviceMonitor.interval) }}
{{- end }}
{{- if $v.prometheus.retentionSize }}
{{- if ge (float64 (include "${chart}.bytes" $v.prometheus.retentionSize)) (mulf (float64 (include "${chart}.bytes" $v.prometheus.storage.size)) 0.95) }}
{{- fail (printf "prometheus.retentionSize (%s) must stay below 95%% of prometheus.storage.size (%s), or Prometheus fills its disk before it deletes old blocks" $v.prometheus.retentionSize $v.prometheus.storage.size) }}
{{- end }}
{{- end }}
{{- range $path, $window := dict "alerts.window" $v.alerts.window "alerts.restarting.window" $v.alerts.restarting.window }}
{{- if lt (float64 (include "${chart}.seconds" $window)) (mulf 4.0 $interval) }}
{{- fail (printf "%s (%s) must cover at least 4 scrapes (serviceMonitor.interval %s)" $path $window $v.serviceMonitor.interval) }}
{{- end }}
{{- end }}
{{- if and $v.prometheus.enabled (gt (float64 (include "${chart}.seconds" $v.slo.period)) (float64 (include "${chart}.seconds" $v.prometheus.retention))) }}
{{- fail (printf "slo.period (%s) must not be longer than the Prometheus retention (prometheus.retention %s)" $v.slo.period $v.prometheus.retention) }}
{{- end }}
{{- if and $v.alertmanager.enabled (not $v.prometheus.enabled) }}
{{- fail "alertmanager.enabled (true) needs prometheus.enabled: only the bundled Prometheus sends to the bundled Alertmanager" }}
{{- end }}
{{- if and $v.prometheus.enabled (not $v.serviceMonitor.enabled) }}
{{- fail "prometheus.enabled (true) needs serviceMonitor.enabled: the bundled Prometheus scrapes the app through its ServiceMonitor" }}
{{- end }}
{{- if not (has (include "${chart}.rulesKey" .) (list ${o.variants.map(q).join(' ')})) }}
{{- fail "alerts.* (but runbookBaseUrl) and slo.* must be the defaults or those of a file in k8s/values/: the chart carries the rules synthesized for those; render other thresholds with the synth (SYNTH_CONFIG), or add the values file there and regenerate the chart (npm run chart)" }}
{{- end }}
{{- if and .Values.namespace (ne (toString .Values.namespace) .Release.Namespace) }}
{{- fail (printf "namespace (%s) differs from the release's namespace (%s): install with -n %s" (toString .Values.namespace) .Release.Namespace (toString .Values.namespace)) }}
{{- end }}
{{- if and .Values.name (ne (toString .Values.name) (include "${chart}.fullname" .)) }}
{{- fail (printf "name (%s): object names come from the release (now %s): set fullnameOverride: %s instead" (toString .Values.name) (include "${chart}.fullname" .) (toString .Values.name)) }}
{{- end }}
${fixedChecks}
{{- end }}
`;
}

export function notesTxt(chart: string): string {
  const fullname = `{{ include "${chart}.fullname" . }}`;
  return `${fullname} is installed in namespace {{ .Release.Namespace }}.

Reach the API:
  kubectl -n {{ .Release.Namespace }} port-forward svc/${fullname} 8080:80
  curl http://127.0.0.1:8080${READY_PATH}
{{- if .Values.prometheus.enabled }}

Reach its Prometheus (the operator names the pod after the Prometheus ${fullname}):
  kubectl -n {{ .Release.Namespace }} port-forward pod/prometheus-${fullname}-0 9090:9090
  open http://127.0.0.1:9090/targets
{{- else }}

The cluster's Prometheus scrapes it through the ServiceMonitor ${fullname}{{ with .Values.serviceMonitor.additionalLabels }} (labels {{ toJson . }}){{ end }}: check that its serviceMonitorSelector and ruleSelector match.
{{- end }}

Check the release:
  helm test {{ .Release.Name }} -n {{ .Release.Namespace }}
  npm run verify -- --namespace {{ .Release.Namespace }} --name ${fullname}
`;
}

/** Waits for /readyz and for http_requests_total on /metrics, with the API image's own node. */
const CHECK_SCRIPT = `
const api = process.env.API_URL, metrics = process.env.METRICS_URL;
const deadline = Date.now() + 60000;
(async () => {
  for (;;) {
    try {
      const ready = await fetch(api + '${READY_PATH}');
      const text = await (await fetch(metrics)).text();
      if (ready.ok && text.includes('${METRIC.requestsTotal}')) { console.log('ready, and metrics carry ${METRIC.requestsTotal}'); return; }
      console.log('not yet: readyz ' + ready.status + ', ${METRIC.requestsTotal} ' + (text.includes('${METRIC.requestsTotal}') ? 'present' : 'absent'));
    } catch (err) { console.log('not yet: ' + err.message); }
    if (Date.now() > deadline) { console.error('gave up after 60s'); process.exit(1); }
    await new Promise((r) => setTimeout(r, 2000));
  }
})();
`.trim();

export function testPod(chart: string): string {
  const fullname = `{{ include "${chart}.fullname" . }}`;
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${fullname}-test
  namespace: {{ .Release.Namespace }}
  labels:
    app.kubernetes.io/name: {{ include "${chart}.name" . }}-test
    app.kubernetes.io/instance: {{ .Release.Name }}
    app.kubernetes.io/component: test
    app.kubernetes.io/managed-by: {{ .Release.Service }}
    helm.sh/chart: {{ include "${chart}.chart" . }}
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation,hook-succeeded
spec:
  restartPolicy: Never
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    runAsUser: ${API_UID}
    runAsGroup: ${API_UID}
    seccompProfile:
      type: RuntimeDefault
  containers:
    - name: check
      image: {{ include "${chart}.image" . | quote }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command: ["node", "-e", ${JSON.stringify(CHECK_SCRIPT)}]
      env:
        - name: API_URL
          value: "http://${fullname}.{{ .Release.Namespace }}.svc:80"
        - name: METRICS_URL
          value: "http://${fullname}.{{ .Release.Namespace }}.svc:{{ .Values.metricsPort }}/metrics"
      resources:
        requests:
          cpu: 10m
          memory: 32Mi
        limits:
          memory: 64Mi
      securityContext:
        allowPrivilegeEscalation: false
        readOnlyRootFilesystem: true
        runAsNonRoot: true
        capabilities:
          drop: ["ALL"]
  {{- with .Values.image.pullSecrets }}
  imagePullSecrets:
    {{- range . }}
    - name: {{ . | quote }}
    {{- end }}
  {{- end }}
`;
}
