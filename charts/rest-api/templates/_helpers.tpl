{{/* Chart name, or nameOverride. */}}
{{- define "rest-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 52 | trimSuffix "-" }}
{{- end }}

{{/*
Object name prefix: <release>-<name>, or the release when it contains the name, or
fullnameOverride. 52 characters leave room for suffixes.
*/}}
{{- define "rest-api.fullname" -}}
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

{{- define "rest-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* app.kubernetes.io/version: the image tag made label-safe (k8s/labels.ts versionLabel), else the appVersion. */}}
{{- define "rest-api.version" -}}
{{- default .Chart.AppVersion (include "rest-api.labelValue" .Values.image.tag) }}
{{- end }}

{{/* Text as a label value: characters a label cannot hold become -, at most 63, no separator at either end. */}}
{{- define "rest-api.labelValue" -}}
{{- regexReplaceAll "[^-A-Za-z0-9_.]" (toString .) "-" | trunc 63 | trimAll "-_." }}
{{- end }}

{{/* The API image: repository@digest when a digest is set or the tag is a bare digest, else repository:tag. */}}
{{- define "rest-api.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else if hasPrefix "sha256:" (toString .Values.image.tag) }}
{{- printf "%s@%s" .Values.image.repository (toString .Values.image.tag) }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (toString .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Selector labels of a component: (list $ "api"). The API's name is the chart's name, every other
component's is <name>-<component>.
*/}}
{{- define "rest-api.selectorLabels" -}}
{{- $ := index . 0 }}
{{- $component := index . 1 -}}
app.kubernetes.io/name: {{ include "rest-api.name" $ }}{{ if ne $component "api" }}-{{ $component }}{{ end }}
app.kubernetes.io/instance: {{ $.Release.Name }}
app.kubernetes.io/component: {{ $component }}
{{- end }}

{{/*
Labels of every object of a component: (list $ "api" version [extra labels]). The chart's own
labels win over commonLabels and the extra labels, so that a selector label is never overridden
(the validate helper refuses them anyway, naming the key).
*/}}
{{- define "rest-api.labels" -}}
{{- $ := index . 0 }}
{{- $own := fromYaml (include "rest-api.selectorLabels" (list $ (index . 1))) }}
{{- $_ := set $own "app.kubernetes.io/version" (index . 2) }}
{{- $_ = set $own "app.kubernetes.io/part-of" (include "rest-api.fullname" $) }}
{{- $_ = set $own "app.kubernetes.io/managed-by" $.Release.Service }}
{{- $_ = set $own "helm.sh/chart" (include "rest-api.chart" $) }}
{{- $extra := dict }}
{{- if gt (len .) 3 }}{{ $extra = index . 3 | default dict }}{{ end }}
{{- toYaml (merge $own (deepCopy ($.Values.commonLabels | default dict)) (deepCopy $extra)) }}
{{- end }}

{{- define "rest-api.serviceAccountName" -}}
{{- default (include "rest-api.fullname" .) .Values.serviceAccount.name }}
{{- end }}

{{/* The Secret the API reads DATABASE_URL from. */}}
{{- define "rest-api.databaseSecret" -}}
{{- default (printf "%s-database" (include "rest-api.fullname" .)) .Values.database.existingSecret }}
{{- end }}

{{/* The Secret holding the API keys (api-key mode): auth.existingSecret, else the one the keys Job makes. */}}
{{- define "rest-api.apiKeysSecret" -}}
{{- default (printf "%s-api-keys" (include "rest-api.fullname" .)) .Values.auth.existingSecret }}
{{- end }}

{{/* Whether the keys Job is rendered: api-key mode without auth.existingSecret ("true" or empty). */}}
{{- define "rest-api.apiKeysJob" -}}
{{- if and (eq .Values.auth.mode "api-key") (not .Values.auth.existingSecret) }}true{{ end }}
{{- end }}

{{/* The TCP port of auth.jwt.jwksUrl: its own, else 443 for https and 80 for http. */}}
{{- define "rest-api.jwksPort" -}}
{{- $u := urlParse .Values.auth.jwt.jwksUrl }}
{{- $port := regexFind ":[0-9]+$" $u.host | trimPrefix ":" }}
{{- $port | default (ternary "443" "80" (eq $u.scheme "https")) }}
{{- end }}

{{- define "rest-api.postgres.name" -}}
{{- printf "%s-postgres" (include "rest-api.fullname" .) }}
{{- end }}

{{/* The development PostgreSQL's version label: its image tag. */}}
{{- define "rest-api.postgres.version" -}}
{{- $image := splitList ":" .Values.database.postgres.image }}
{{- include "rest-api.labelValue" (ternary (index $image 1) "latest" (gt (len $image) 1)) }}
{{- end }}

{{/* A number as k8s/units.ts num() prints it: at most 12 decimals, never an exponent, trailing zeros trimmed. */}}
{{- define "rest-api.num" -}}
{{- regexReplaceAll "\\.?0+$" (printf "%.12f" (float64 .)) "" }}
{{- end }}

{{/* A ratio in whole percent (0.95 -> 95). */}}
{{- define "rest-api.percent" -}}
{{- include "rest-api.num" (round (mulf (float64 .) 100) 0) }}
{{- end }}

{{/* Seconds in a Prometheus duration. */}}
{{- define "rest-api.seconds" -}}
{{- $units := dict "y" 31536000.0 "w" 604800.0 "d" 86400.0 "h" 3600.0 "m" 60.0 "s" 1.0 "ms" 0.001 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(ms|[ywdhms])" (toString .) -1 }}
{{- $n := regexFind "^[0-9]+" . }}
{{- $total = addf $total (mulf (float64 $n) (get $units (trimPrefix $n .))) }}
{{- end }}
{{- $total }}
{{- end }}

{{/* Bytes in a Kubernetes quantity (10Gi) or a Prometheus size (8GiB). */}}
{{- define "rest-api.bytes" -}}
{{- $n := regexFind "^[0-9]+(\\.[0-9]+)?" (toString .) }}
{{- $unit := trimSuffix "B" (trimPrefix $n (toString .)) }}
{{- $units := dict "" 1.0 "K" 1024.0 "Ki" 1024.0 "k" 1000.0 "M" 1048576.0 "Mi" 1048576.0 "G" 1073741824.0 "Gi" 1073741824.0 "T" 1099511627776.0 "Ti" 1099511627776.0 }}
{{- mulf (float64 $n) (get $units $unit) }}
{{- end }}

{{/*
The SLO arithmetic of k8s/burn-rates.ts, for the generated rule groups and dashboard; the parity
tests compare both over a matrix of periods and objectives.
The error budget of an objective in percent: 99.9 -> 0.001.
*/}}
{{- define "rest-api.budget" -}}
{{- include "rest-api.num" (subf 1.0 (divf (float64 .) 100.0)) }}
{{- end }}

{{/* The burn rate of a window pair for the SLO period, (list factor30d period): scaled from 30 days, 6 significant digits, at least 1. */}}
{{- define "rest-api.burnRateValue" -}}
{{- $rate := divf (mulf (index . 0) (include "rest-api.seconds" (index . 1))) 2592000.0 }}
{{- maxf 1.0 (float64 (printf "%.6g" $rate)) }}
{{- end }}

{{- define "rest-api.burnRate" -}}
{{- include "rest-api.num" (include "rest-api.burnRateValue" .) }}
{{- end }}

{{/* The error ratio a window pair alerts above, (list factor30d period objective): burn rate times budget. */}}
{{- define "rest-api.burnLimit" -}}
{{- $rate := float64 (include "rest-api.burnRateValue" (list (index . 0) (index . 1))) }}
{{- include "rest-api.num" (mulf $rate (float64 (include "rest-api.budget" (index . 2)))) }}
{{- end }}

{{/* The `le` matcher of the latency SLO's bucket: both spellings (1 and 1.0) of a whole number. */}}
{{- define "rest-api.bucketMatcher" -}}
{{- $s := include "rest-api.num" . }}
{{- if eq (float64 .) (floor (float64 .)) }}
{{- printf "le=~\"%s(\\\\.0)?\"" $s }}
{{- else }}
{{- printf "le=\"%s\"" $s }}
{{- end }}
{{- end }}

{{/* What values.schema.json cannot express, checked as the synth checks it (k8s/config.ts). */}}
{{- define "rest-api.validate" -}}
{{- $v := .Values }}
{{- range $path, $labels := dict "podLabels" $v.podLabels "commonLabels" $v.commonLabels "serviceMonitor.additionalLabels" $v.serviceMonitor.additionalLabels "prometheusRule.additionalLabels" $v.prometheusRule.additionalLabels }}
{{- range $key := list "app.kubernetes.io/name" "app.kubernetes.io/instance" "app.kubernetes.io/component" }}
{{- if hasKey ($labels | default dict) $key }}
{{- fail (printf "%s.%s: is a selector label of the chart: extra labels may not set it" $path $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- $interval := float64 (include "rest-api.seconds" $v.serviceMonitor.interval) }}
{{- if gt (float64 (include "rest-api.seconds" $v.serviceMonitor.scrapeTimeout)) $interval }}
{{- fail (printf "serviceMonitor.scrapeTimeout (%s) must not exceed serviceMonitor.interval (%s)" $v.serviceMonitor.scrapeTimeout $v.serviceMonitor.interval) }}
{{- end }}
{{- if ge (float64 (include "rest-api.bytes" $v.prometheus.retentionSize)) (mulf (float64 (include "rest-api.bytes" $v.prometheus.storage.size)) 0.95) }}
{{- fail (printf "prometheus.retentionSize (%s) must stay below 95%% of prometheus.storage.size (%s), or Prometheus fills its disk before it deletes old blocks" $v.prometheus.retentionSize $v.prometheus.storage.size) }}
{{- end }}
{{- range $path, $window := dict "alerts.window" $v.alerts.window "alerts.restarting.window" $v.alerts.restarting.window }}
{{- if lt (float64 (include "rest-api.seconds" $window)) (mulf 4.0 $interval) }}
{{- fail (printf "%s (%s) must cover at least 4 scrapes (serviceMonitor.interval %s), or one missed scrape leaves rate() without data" $path $window $v.serviceMonitor.interval) }}
{{- end }}
{{- end }}
{{- if and $v.prometheus.enabled (gt (float64 (include "rest-api.seconds" $v.slo.period)) (float64 (include "rest-api.seconds" $v.prometheus.retention))) }}
{{- fail (printf "slo.period (%s) must not be longer than the Prometheus retention (prometheus.retention %s)" $v.slo.period $v.prometheus.retention) }}
{{- end }}
{{- if lt (float64 $v.server.requestTimeoutMs) (float64 $v.server.headersTimeoutMs) }}
{{- fail (printf "server.requestTimeoutMs (%v) must not be less than server.headersTimeoutMs (%v)" $v.server.requestTimeoutMs $v.server.headersTimeoutMs) }}
{{- end }}
{{- if eq (float64 $v.port) (float64 $v.metricsPort) }}
{{- fail (printf "metricsPort (%v) must differ from port" $v.metricsPort) }}
{{- end }}
{{- if and $v.alertmanager.enabled (not $v.prometheus.enabled) }}
{{- fail "alertmanager.enabled (true) needs prometheus.enabled: only the bundled Prometheus sends to the bundled Alertmanager; with the cluster's Prometheus, route the app's alerts with an AlertmanagerConfig in the cluster's Alertmanager" }}
{{- end }}
{{- if and $v.prometheus.enabled (not $v.serviceMonitor.enabled) }}
{{- fail "prometheus.enabled (true) needs serviceMonitor.enabled: the bundled Prometheus scrapes the app through its ServiceMonitor" }}
{{- end }}
{{- if and (not $v.serviceAccount.create) (not $v.serviceAccount.name) }}
{{- fail "serviceAccount.name must name an existing service account when serviceAccount.create is false" }}
{{- end }}
{{- if eq $v.auth.mode "jwt" }}
{{- range $key := list "jwksUrl" "issuer" "audience" }}
{{- if not (index $v.auth.jwt $key) }}
{{- fail (printf "auth.jwt.%s is required when auth.mode is jwt" $key) }}
{{- end }}
{{- end }}
{{- end }}
{{- if and $v.auth.existingSecret (ne $v.auth.mode "api-key") }}
{{- fail (printf "auth.existingSecret is read only when auth.mode is api-key (it is %s)" $v.auth.mode) }}
{{- end }}
{{- if and $v.database.ca.secret $v.database.ca.configMap }}
{{- fail "database.ca.configMap: set either database.ca.secret or database.ca.configMap, not both" }}
{{- end }}
{{- if and (or $v.database.ca.secret $v.database.ca.configMap) (not $v.database.existingSecret) }}
{{- fail "database.ca needs database.existingSecret: the development PostgreSQL speaks no TLS (its URL would not ask for verify-full)" }}
{{- end }}
{{- if and $v.namespace (ne (toString $v.namespace) .Release.Namespace) }}
{{- fail (printf "namespace (%s) differs from the release's namespace (%s): install with -n %s" (toString $v.namespace) .Release.Namespace (toString $v.namespace)) }}
{{- end }}
{{- if and $v.name (ne (toString $v.name) (include "rest-api.fullname" .)) }}
{{- fail (printf "name (%s): object names come from the release (now %s): set fullnameOverride: %s instead" (toString $v.name) (include "rest-api.fullname" .) (toString $v.name)) }}
{{- end }}
{{- end }}

{{/* Egress to the cluster DNS (networkPolicy.dns), UDP and TCP 53. */}}
{{- define "rest-api.dnsEgress" -}}
- to:
    {{- toYaml .Values.networkPolicy.dns | nindent 4 }}
  ports:
    - port: 53
      protocol: UDP
    - port: 53
      protocol: TCP
{{- end }}

{{/* Egress to the Kubernetes API (networkPolicy.kubeApiServer), 443 and 6443. */}}
{{- define "rest-api.kubeApiEgress" -}}
- to:
    {{- toYaml .Values.networkPolicy.kubeApiServer | nindent 4 }}
  ports:
    - port: 443
      protocol: TCP
    - port: 6443
      protocol: TCP
{{- end }}

{{/* The pods the operator runs for this release's Alertmanager. */}}
{{- define "rest-api.alertmanagerPods" -}}
app.kubernetes.io/name: alertmanager
alertmanager: {{ include "rest-api.fullname" . }}
{{- end }}

{{/* Alertmanager's cluster (mesh) port, TCP and UDP. */}}
{{- define "rest-api.meshPorts" -}}
- port: 9094
  protocol: TCP
- port: 9094
  protocol: UDP
{{- end }}
