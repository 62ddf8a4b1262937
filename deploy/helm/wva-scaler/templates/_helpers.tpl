{{/*
Names and labels, written once here and included by every template.
*/}}

{{/* The chart's name: the app.kubernetes.io/name label. */}}
{{- define "wva-scaler.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The name of the release's objects (Deployment, Service, ServiceAccount, PDB, ...): the release
name, so that ScaledObjects reach the scaler at <release>.<namespace>.svc.cluster.local:9090 (the
README's address with the release `wva-scaler`) and the default settings.scalerAddressMatch is it.
*/}}
{{- define "wva-scaler.fullname" -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* chart-version, for the helm.sh/chart label. */}}
{{- define "wva-scaler.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
The labels that select the scaler's pods (Deployment, Service, PDB, NetworkPolicy,
ServiceMonitor). Never add to these: a Deployment's selector cannot change after install.
*/}}
{{- define "wva-scaler.selectorLabels" -}}
app.kubernetes.io/name: {{ include "wva-scaler.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Every object's labels. The pod template carries only the selector labels, so that a new chart
version alone does not restart the pods.
*/}}
{{- define "wva-scaler.labels" -}}
helm.sh/chart: {{ include "wva-scaler.chart" . }}
{{ include "wva-scaler.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The ServiceAccount the scaler runs as, which every RoleBinding binds. */}}
{{- define "wva-scaler.serviceAccountName" -}}
{{- include "wva-scaler.fullname" . }}
{{- end }}

{{/* Role in watchNamespace when it is set, else ClusterRole: the kind of the watch role. */}}
{{- define "wva-scaler.watchRoleKind" -}}
{{- if .Values.watchNamespace }}Role{{ else }}ClusterRole{{ end }}
{{- end }}

{{/* The Role or ClusterRole (and its binding) for the watched resources. */}}
{{- define "wva-scaler.watchRoleName" -}}
{{- printf "%s-watch" (include "wva-scaler.fullname" .) }}
{{- end }}

{{/* The Role (and its binding) in the release namespace: the ConfigMap and the Lease. */}}
{{- define "wva-scaler.ownRoleName" -}}
{{- printf "%s-own" (include "wva-scaler.fullname" .) }}
{{- end }}

{{/* The subjects of every binding: the scaler's ServiceAccount. */}}
{{- define "wva-scaler.subjects" -}}
- kind: ServiceAccount
  name: {{ include "wva-scaler.serviceAccountName" . }}
  namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
The scaler exits at start-up without a metrics source: refuse to render instead, naming the value
to set. Included by the Deployment.
*/}}
{{- define "wva-scaler.validateMetricsSource" -}}
{{- if and (eq .Values.settings.metricsBackend "prometheus") (not .Values.settings.prometheusUrl) }}
{{- fail "settings.metricsBackend=prometheus needs settings.prometheusUrl, e.g. --set settings.prometheusUrl=http://prometheus-operated.monitoring.svc:9090" }}
{{- end }}
{{- if and (eq .Values.settings.metricsBackend "scrape") (not .Values.settings.scrapeTargets) (not .Values.settings.gatewayScrapeTarget) }}
{{- fail "settings.metricsBackend=scrape needs settings.scrapeTargets (vLLM /metrics URLs, comma-separated) or settings.gatewayScrapeTarget" }}
{{- end }}
{{- if and (eq .Values.settings.metricsBackend "auto") (not .Values.settings.prometheusUrl) (not .Values.settings.scrapeTargets) (not .Values.settings.gatewayScrapeTarget) }}
{{- fail "the scaler needs a metrics source: set settings.prometheusUrl (e.g. --set settings.prometheusUrl=http://prometheus-operated.monitoring.svc:9090) or, without Prometheus, settings.scrapeTargets (vLLM /metrics URLs, comma-separated)" }}
{{- end }}
{{- end }}
