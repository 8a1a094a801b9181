{{/*
Names, labels and small shared snippets. Every object of the chart is named from
tier0.fullname and labelled with tier0.labels; selectors use only
tier0.selectorLabels plus the component (and region) label, so a chart upgrade that
changes the version label never touches an immutable selector.
*/}}

{{/* The chart's short name (nameOverride wins). */}}
{{- define "tier0.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The release-qualified name, truncated to 63 characters (DNS label). A release whose
name already contains the chart name is not repeated: release "tier0" gives
"tier0", so the group Service is "tier0-api".
*/}}
{{- define "tier0.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* name-version, for the helm.sh/chart label. */}}
{{- define "tier0.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels on every object. */}}
{{- define "tier0.labels" -}}
helm.sh/chart: {{ include "tier0.chart" . }}
{{ include "tier0.selectorLabels" . }}
app.kubernetes.io/version: {{ include "tier0.versionLabel" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tier0
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The labels selectors may use: stable for the life of the release. */}}
{{- define "tier0.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tier0.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Selector labels of one component, optionally of one region.
Call with (dict "ctx" $ "component" "api" "region" "region1").
*/}}
{{- define "tier0.componentSelectorLabels" -}}
{{ include "tier0.selectorLabels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- if .region }}
{{ .ctx.Values.regionLabel }}: {{ .region }}
{{- end }}
{{- end }}

{{/* All labels of one component's objects (same dict as above). */}}
{{- define "tier0.componentLabels" -}}
{{ include "tier0.labels" .ctx }}
app.kubernetes.io/component: {{ .component }}
{{- if .region }}
{{ .ctx.Values.regionLabel }}: {{ .region }}
{{- end }}
{{- end }}

{{/* ServiceAccount of the workloads (ingest, simulators, brokers, Redis): no API access. */}}
{{- define "tier0.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tier0.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* ServiceAccount of the region APIs; templates/api-rbac.yaml creates it and, when
the failover endpoints are on, binds it to the Role they need. */}}
{{- define "tier0.apiServiceAccountName" -}}
{{- default (printf "%s-api" (include "tier0.fullname" .)) .Values.api.serviceAccount.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Whether the region APIs serve /api/failover/*: "true" or empty. They need a
FailoverGroup to act on, so api.failover.enabled only counts when the chart renders
one (failover.enabled); with either off the API gets no Role and no token.
*/}}
{{- define "tier0.apiFailoverEnabled" -}}
{{- if and .Values.api.failover.enabled .Values.failover.enabled }}true{{ end }}
{{- end }}

{{/* ServiceAccount of the operator; templates/operator-rbac.yaml creates and binds it. */}}
{{- define "tier0.operatorServiceAccountName" -}}
{{- default (printf "%s-operator" (include "tier0.fullname" .)) .Values.operator.serviceAccount.name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
An image reference from a repository and a tag that may pin a digest:
"1.2@sha256:..." gives repository:1.2@sha256:..., "@sha256:..." repository@sha256:...,
and an empty tag repository:<default>. Call with (dict "repository" R "tag" T "default" D).
*/}}
{{- define "tier0.imageRef" -}}
{{- $parts := splitn "@" 2 (toString (.tag | default "")) }}
{{- $tag := ternary .default $parts._0 (empty .tag) }}
{{- .repository }}{{ with $tag }}:{{ . }}{{ end }}{{ with $parts._1 }}@{{ . }}{{ end }}
{{- end }}

{{/* The tier0 image tag without any digest: image.tag's part before "@", else the chart's appVersion. */}}
{{- define "tier0.imageTag" -}}
{{- (splitn "@" 2 (toString (.Values.image.tag | default "")))._0 | default .Chart.AppVersion }}
{{- end }}

{{/*
The app.kubernetes.io/version label: the image tag made a valid label value (at most
63 characters of [A-Za-z0-9._-], alphanumeric at both ends). A digest never gets here.
*/}}
{{- define "tier0.versionLabel" -}}
{{- regexReplaceAll "[^-A-Za-z0-9_.]" (include "tier0.imageTag" .) "_" | trunc 63 | trimAll "-_." }}
{{- end }}

{{/* The tier0 image reference (API, ingest, simulators, helm test). */}}
{{- define "tier0.image" -}}
{{- include "tier0.imageRef" (dict "repository" .Values.image.repository "tag" .Values.image.tag "default" .Chart.AppVersion) }}
{{- end }}

{{/*
The operator's image: operator.image.repository/tag when a repository is set (its tag
defaulting to the appVersion, never to the other image's tag or digest), else image.*.
*/}}
{{- define "tier0.operatorImage" -}}
{{- with .Values.operator.image.repository }}
{{- include "tier0.imageRef" (dict "repository" . "tag" $.Values.operator.image.tag "default" $.Chart.AppVersion) }}
{{- else }}
{{- include "tier0.image" . }}
{{- end }}
{{- end }}

{{/* A broker/Redis executable: NAME alone (found on the image's PATH) or under binDir. Call with (dict "binDir" D "name" N). */}}
{{- define "tier0.binary" -}}
{{- if .binDir }}{{ printf "%s/%s" (trimSuffix "/" .binDir) .name }}{{ else }}{{ .name }}{{ end }}
{{- end }}

{{/* Object names. */}}
{{- define "tier0.apiGroupServiceName" -}}
{{- printf "%s-api" (include "tier0.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The FailoverGroup of the region APIs: named after the group Service it moves. */}}
{{- define "tier0.failoverGroupName" -}}
{{- include "tier0.apiGroupServiceName" . }}
{{- end }}

{{- define "tier0.apiName" -}}
{{- printf "%s-api-%s" (include "tier0.fullname" .ctx) .region | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tier0.redisName" -}}
{{- printf "%s-redis-%s" (include "tier0.fullname" .ctx) .region | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tier0.mosquittoName" -}}
{{- printf "%s-mosquitto" (include "tier0.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "tier0.rabbitmqName" -}}
{{- printf "%s-rabbitmq" (include "tier0.fullname" .) | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Secret holding the RabbitMQ user, password and the AMQP URL built from them. */}}
{{- define "tier0.rabbitmqSecretName" -}}
{{- default (include "tier0.rabbitmqName" .) .Values.rabbitmq.auth.existingSecret }}
{{- end }}

{{/* Secret holding a region's Redis password (and the redis.conf include that sets it). */}}
{{- define "tier0.redisSecretName" -}}
{{- include "tier0.redisName" . }}
{{- end }}

{{/*
A generated credential that survives upgrades: the value already stored in the
live Secret when there is one (lookup), else a new random string. `helm template`
and --dry-run have no cluster, so they always render a fresh random value.
Call with (dict "ctx" $ "secret" NAME "key" KEY "length" N).
*/}}
{{- define "tier0.stableRandom" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .secret }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key | b64dec }}
{{- else }}
{{- randAlphaNum (int .length) }}
{{- end }}
{{- end }}

{{/* Environment shared by every tier0 process. */}}
{{- define "tier0.commonEnv" -}}
- name: LOG_LEVEL
  value: {{ .Values.logLevel | quote }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Redis connection of one region (dict "ctx" $ "region" NAME). */}}
{{- define "tier0.redisEnv" -}}
- name: REDIS_HOST
  value: {{ include "tier0.redisName" . | quote }}
- name: REDIS_PORT
  value: {{ .ctx.Values.redis.port | quote }}
{{- if .ctx.Values.redis.auth.enabled }}
- name: REDIS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "tier0.redisSecretName" . }}
      key: redis-password
{{- end }}
{{- end }}

{{/* AMQP_URL from the RabbitMQ Secret. */}}
{{- define "tier0.amqpEnv" -}}
- name: AMQP_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "tier0.rabbitmqSecretName" . }}
      key: amqp-url
{{- end }}

{{/* MQTT broker address. */}}
{{- define "tier0.mqttEnv" -}}
- name: MQTT_HOST
  value: {{ include "tier0.mosquittoName" . | quote }}
- name: MQTT_PORT
  value: {{ .Values.mosquitto.port | quote }}
{{- end }}

{{/* Prometheus scrape annotations for a pod serving /metrics on PORT (dict "ctx" $ "port" N). */}}
{{- define "tier0.scrapeAnnotations" -}}
{{- if .ctx.Values.metrics.podAnnotations -}}
prometheus.io/scrape: "true"
prometheus.io/port: {{ .port | quote }}
prometheus.io/path: /metrics
{{- end }}
{{- end }}

{{/* Pod-level security context of the tier0 image's pods (values podSecurityContext). */}}
{{- define "tier0.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext }}
{{- end }}

{{/* Container-level security context of the tier0 image's containers (values securityContext). */}}
{{- define "tier0.containerSecurityContext" -}}
{{- toYaml .Values.securityContext }}
{{- end }}

{{/* Scheduling knobs shared by every pod (nodeSelector, tolerations, affinity). */}}
{{- define "tier0.scheduling" -}}
{{- with .Values.nodeSelector -}}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
