{{/* Chart name. */}}
{{- define "neonpro.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Resource name prefix: <release>-neonpro, or the release name when it contains the chart name. */}}
{{- define "neonpro.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Labels on every object. Call with (dict "ctx" $ "name" "gateway" "component" "api"). */}}
{{- define "neonpro.labels" -}}
{{ include "neonpro.selectorLabels" . }}
app.kubernetes.io/component: {{ .component }}
app.kubernetes.io/part-of: neonpro
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .ctx.Chart.Name .ctx.Chart.Version | replace "+" "_" }}
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selectors use only name and instance. */}}
{{- define "neonpro.selectorLabels" -}}
app.kubernetes.io/name: {{ .name }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
{{- end -}}

{{- define "neonpro.image" -}}
{{- printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* NATS URL: explicit, else the bundled subchart's Service, else a `nats` Service here. */}}
{{- define "neonpro.natsUrl" -}}
{{- if .Values.natsConnection.url -}}
{{- .Values.natsConnection.url -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s-nats:4222" .Release.Name -}}
{{- else -}}
nats://nats:4222
{{- end -}}
{{- end -}}

{{- define "neonpro.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "neonpro.containerSecurityContext" -}}
runAsNonRoot: true
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* Spread replicas over zones and nodes; pod-template-hash keeps rollouts balanced. */}}
{{- define "neonpro.topologySpread" -}}
{{- range $key := list "topology.kubernetes.io/zone" "kubernetes.io/hostname" }}
- maxSkew: 1
  topologyKey: {{ $key }}
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "neonpro.selectorLabels" $ | nindent 6 }}
  matchLabelKeys: [pod-template-hash]
{{- end }}
{{- end -}}

{{/* DNS egress rule for NetworkPolicies. */}}
{{- define "neonpro.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
          k8s-app: kube-dns
  ports:
    - { protocol: UDP, port: 53 }
    - { protocol: TCP, port: 53 }
{{- end -}}

{{/* Egress of gateway and agent: DNS, in-cluster NATS/Redis, external HTTPS/Postgres. */}}
{{- define "neonpro.egressBackends" -}}
{{ include "neonpro.dnsEgress" . }}
# In-cluster NATS and Redis (official charts or your own), any namespace.
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          app.kubernetes.io/name: nats
  ports:
    - { protocol: TCP, port: 4222 }
- to:
    - namespaceSelector: {}
      podSelector:
        matchLabels:
          app.kubernetes.io/name: redis
  ports:
    - { protocol: TCP, port: 6379 }
# Supabase and hosted LLM APIs outside the cluster (NetworkPolicy cannot match host names).
- to:
    - ipBlock:
        cidr: {{ .Values.networkPolicy.externalEgress.cidr }}
        except: {{ toJson .Values.networkPolicy.externalEgress.except }}
  ports:
    {{- range .Values.networkPolicy.externalEgress.ports }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end -}}

{{/* Ingress from Prometheus to the http port. */}}
{{- define "neonpro.fromMonitoring" -}}
- from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.monitoring.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.monitoring.podLabels | nindent 10 }}
  ports:
    - { protocol: TCP, port: http }
{{- end -}}
