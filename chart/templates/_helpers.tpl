{{/*
Names, labels and the few values the templates derive from others.
*/}}

{{/* Chart name, overridable with nameOverride; 63 characters at most (DNS label). */}}
{{- define "agno-session-service.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full name of the release's resources: fullnameOverride, else <release>-<chart name>, or just the
release name when it already contains the chart name.
*/}}
{{- define "agno-session-service.fullname" -}}
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

{{/* Name of the migrate hook's resources (Job and, when the chart creates secrets, its Secret). */}}
{{- define "agno-session-service.migrateName" -}}
{{- printf "%s-migrate" (include "agno-session-service.fullname" . | trunc 55 | trimSuffix "-") }}
{{- end }}

{{- define "agno-session-service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every resource, without the component (api or migrate). */}}
{{- define "agno-session-service.commonLabels" -}}
helm.sh/chart: {{ include "agno-session-service.chart" . }}
app.kubernetes.io/name: {{ include "agno-session-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: agno
{{- end }}

{{/* Labels of the service's own resources (component api). */}}
{{- define "agno-session-service.labels" -}}
{{ include "agno-session-service.commonLabels" . }}
app.kubernetes.io/component: api
{{- end }}

{{/* Labels of the migrate hook's resources. */}}
{{- define "agno-session-service.migrateLabels" -}}
{{ include "agno-session-service.commonLabels" . }}
app.kubernetes.io/component: migrate
{{- end }}

{{/*
Labels the Service, PDB and spread constraints select the service's pods by (never the migrate
Job's pods, whose component differs).
*/}}
{{- define "agno-session-service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "agno-session-service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: api
{{- end }}

{{- define "agno-session-service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "agno-session-service.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
Image reference: repository@digest when a digest is given, else repository:tag with the tag
defaulting to the chart's appVersion. "latest" is refused: it makes rollbacks and node caches lie.
*/}}
{{- define "agno-session-service.image" -}}
{{- $tag := default .Chart.AppVersion .Values.image.tag | toString }}
{{- if eq $tag "latest" }}
{{- fail "image.tag must name a version (or set image.digest); \"latest\" is not accepted" }}
{{- end }}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository $tag }}
{{- end }}
{{- end }}

{{/* The Secret the pods read the database URL(s) and the bearer key from. */}}
{{- define "agno-session-service.secretName" -}}
{{- default (include "agno-session-service.fullname" .) .Values.secret.existingSecret }}
{{- end }}

{{/*
Fail early on a release that could not serve anything: no database at all (the image would fall
back to an embedded SQLite file on a read-only filesystem).
*/}}
{{- define "agno-session-service.validate" -}}
{{- if and (not .Values.secret.existingSecret) (not .Values.secret.pgDsn) (not .Values.secret.dsnMap) }}
{{- fail "set secret.pgDsn, secret.dsnMap or secret.existingSecret: the service needs a database" }}
{{- end }}
{{- if and (gt (int .Values.config.statementTimeoutMs) 0) (ge (int .Values.config.statementTimeoutMs) (mul (int .Values.config.workerTimeout) 1000 | int)) }}
{{- fail "config.statementTimeoutMs must be below config.workerTimeout (in ms): a query that outlives the worker timeout gets the worker killed instead of a clean error" }}
{{- end }}
{{- if and (gt (int .Values.config.drainSeconds) 0) (ge (int .Values.config.drainSeconds) (int .Values.config.gracefulTimeout)) }}
{{- fail "config.drainSeconds must be below config.gracefulTimeout: the drain is the first part of the graceful timeout, and the requests still running at its end need the rest (gunicorn refuses to start otherwise)" }}
{{- end }}
{{- end }}

{{/* Database entries of the Secret (shared by the release Secret and the migrate hook's Secret). */}}
{{- define "agno-session-service.databaseSecretData" -}}
{{- if .Values.secret.dsnMap -}}
AGNO_SESSION_DSN_MAP: {{ .Values.secret.dsnMap | toJson | b64enc | quote }}
{{- else -}}
AGNO_PG_DSN: {{ .Values.secret.pgDsn | b64enc | quote }}
{{- end }}
{{- end }}

{{/*
Environment of the migrate Job that would otherwise come from the ConfigMap, which does not exist
yet when a pre-install hook runs.
*/}}
{{- define "agno-session-service.migrateEnv" -}}
- name: AGNO_DB_SCHEMA
  value: {{ .Values.config.dbSchema | quote }}
- name: AGNO_DB_LAYOUT
  value: {{ .Values.config.dbLayout | quote }}
- name: AGNO_LOG_LEVEL
  value: {{ .Values.config.logLevel | quote }}
{{- with .Values.config.defaultDbId }}
- name: AGNO_DEFAULT_DB_ID
  value: {{ . | quote }}
{{- end }}
{{- end }}

{{/* terminationGracePeriodSeconds: preStop sleep + gunicorn's graceful timeout (the drain is its
first part) + a margin. */}}
{{- define "agno-session-service.terminationGracePeriodSeconds" -}}
{{- add (int .Values.lifecycle.preStopSleepSeconds) (int .Values.config.gracefulTimeout) (int .Values.lifecycle.terminationGraceMarginSeconds) }}
{{- end }}

{{/*
Container resources: .Values.resources when given, else derived from the worker count (see
resourcesPerWorker in values.yaml).
*/}}
{{- define "agno-session-service.resources" -}}
{{- if .Values.resources }}
{{- toYaml .Values.resources }}
{{- else }}
{{- $workers := int .Values.config.webConcurrency }}
{{- $per := .Values.resourcesPerWorker }}
{{- $memory := add (int $per.baseMemoryMi) (mul $workers (int $per.memoryMi)) -}}
requests:
  cpu: {{ mul $workers (int $per.cpuMillis) }}m
  memory: {{ $memory }}Mi
limits:
  memory: {{ mul $memory 2 }}Mi
{{- end }}
{{- end }}

{{/* An int-or-string field: a count stays a number, a percentage ("50%") is quoted. */}}
{{- define "agno-session-service.intOrString" -}}
{{- if kindIs "string" . }}
{{- . | quote }}
{{- else }}
{{- int . }}
{{- end }}
{{- end }}
