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

{{/* repository:tag, or repository:tag@digest when image.digest pins the exact image. */}}
{{- define "neonpro.image" -}}
{{- $ref := printf "%s:%s" .image.repository (default .ctx.Chart.AppVersion .image.tag) -}}
{{- if .image.digest -}}
{{- if not (hasPrefix "sha256:" .image.digest) -}}
{{- fail (printf "image.digest must start with sha256: (got %s)" .image.digest) -}}
{{- end -}}
{{- $ref = printf "%s@%s" $ref .image.digest -}}
{{- end -}}
{{- $ref -}}
{{- end -}}

{{/* ServiceAccount of a service. Call with (dict "ctx" $ "name" "gateway" "sa" .Values.gateway.serviceAccount). */}}
{{- define "neonpro.serviceAccountName" -}}
{{- if .sa.create -}}
{{- default (printf "%s-%s" (include "neonpro.fullname" .ctx) .name) .sa.name -}}
{{- else -}}
{{- required (printf "%s serviceAccount.name is required when serviceAccount.create is false" .name) .sa.name -}}
{{- end -}}
{{- end -}}

{{/* Autoscaling mode in force: auto resolves to keda when the KEDA CRDs are served, else cpu. */}}
{{- define "neonpro.autoscalingMode" -}}
{{- $mode := .Values.autoscaling.mode -}}
{{- if eq $mode "auto" -}}
{{- if .Capabilities.APIVersions.Has "keda.sh/v1alpha1/ScaledObject" -}}keda{{- else -}}cpu{{- end -}}
{{- else -}}
{{- $mode -}}
{{- end -}}
{{- end -}}

{{/* "true" when a monitoring object is enabled: true, or auto with the Prometheus Operator CRDs. */}}
{{- define "neonpro.monitoringEnabled" -}}
{{- $enabled := .enabled -}}
{{- if eq (toString $enabled) "auto" -}}
{{- $enabled = .ctx.Capabilities.APIVersions.Has (printf "monitoring.coreos.com/v1/%s" .kind) -}}
{{- end -}}
{{- if $enabled -}}true{{- end -}}
{{- end -}}

{{/* Agent drain bound in ms: the configured AGENT_DRAIN_TIMEOUT_MS, else the schema default. */}}
{{- define "neonpro.agentDrainMs" -}}
{{- int (default 20000 .Values.agent.config.AGENT_DRAIN_TIMEOUT_MS) -}}
{{- end -}}

{{/*
Runs per agent replica for the prometheus-adapter External metric agent_run_demand:
agent.autoscaling.runsPerReplica, else AGENT_CONCURRENCY (the runs one replica takes at once).
*/}}
{{- define "neonpro.agentRunsPerReplica" -}}
{{- $t := .Values.agent.autoscaling.runsPerReplica | toString -}}
{{- if not $t -}}{{- $t = default 4 .Values.agent.config.AGENT_CONCURRENCY | toString -}}{{- end -}}
{{- $t -}}
{{- end -}}

{{/* NATS monitoring endpoint (host:port) that KEDA reads. */}}
{{- define "neonpro.natsMonitoringEndpoint" -}}
{{- $k := .Values.agent.autoscaling.keda -}}
{{- if $k.natsMonitoringEndpoint -}}
{{- $k.natsMonitoringEndpoint -}}
{{- else if .Values.nats.enabled -}}
{{- /* The headless Service: the client one exposes only 4222, and KEDA reaches each server of a
       cluster as <server name>.<endpoint>, i.e. <pod>.<headless Service> (server_name is the pod's). */ -}}
{{- printf "%s.%s.svc.cluster.local:%v" (include "neonpro.natsHeadless" .) .Release.Namespace .Values.nats.config.monitor.port -}}
{{- else -}}
{{- printf "nats-headless.%s.svc.cluster.local:8222" .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* Names the bundled nats chart gives its objects (its nats.fullname and headless Service rules). */}}
{{- define "neonpro.natsFullname" -}}
{{- $n := .Values.nats -}}
{{- if $n.fullnameOverride -}}
{{- $n.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default "nats" $n.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- define "neonpro.natsHeadless" -}}
{{- (.Values.nats.headlessService).name | default (printf "%s-headless" (include "neonpro.natsFullname" .)) -}}
{{- end -}}

{{/* NATS URL: explicit, else the bundled subchart's Service, else a `nats` Service here. */}}
{{- define "neonpro.natsUrl" -}}
{{- if .Values.natsConnection.url -}}
{{- .Values.natsConnection.url -}}
{{- else if .Values.nats.enabled -}}
{{- printf "nats://%s:%v" (include "neonpro.natsFullname" .) (.Values.nats.config.nats.port | default 4222) -}}
{{- else -}}
nats://nats:4222
{{- end -}}
{{- end -}}

{{- define "neonpro.podSecurityContext" -}}
{{- toYaml .Values.podSecurityContext -}}
{{- end -}}

{{- define "neonpro.containerSecurityContext" -}}
{{- toYaml .Values.containerSecurityContext -}}
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

{{/* DNS egress rule for NetworkPolicies (selectors: networkPolicy.dns). */}}
{{- define "neonpro.dnsEgress" -}}
- to:
    - namespaceSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.namespaceSelector | nindent 10 }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.dns.podSelector | nindent 10 }}
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
{{ include "neonpro.extraEgress" . }}
{{- end -}}

{{/* networkPolicy.extraEgress: CIDR + ports entries (managed Redis/Postgres on private ranges). */}}
{{- define "neonpro.extraEgress" -}}
{{- range .Values.networkPolicy.extraEgress }}
- to:
    - ipBlock:
        cidr: {{ .cidr }}
        {{- with .except }}
        except: {{ toJson . }}
        {{- end }}
  ports:
    {{- range .ports }}
    - { protocol: TCP, port: {{ . }} }
    {{- end }}
{{- end }}
{{- end -}}

{{/* Ingress from Prometheus to a port (call with (dict "Values" .Values "port" "metrics")). */}}
{{- define "neonpro.fromMonitoring" -}}
- from:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: {{ .Values.networkPolicy.monitoring.namespace }}
      podSelector:
        matchLabels:
          {{- toYaml .Values.networkPolicy.monitoring.podLabels | nindent 10 }}
  ports:
    - { protocol: TCP, port: {{ .port }} }
{{- end -}}

{{/* Agent scaling behavior: burst-friendly up, slow down (shared by the HPA and KEDA's HPA). */}}
{{- define "neonpro.agentScalingBehavior" -}}
{{- $a := .Values.agent.autoscaling -}}
scaleUp:
  stabilizationWindowSeconds: {{ $a.scaleUp.stabilizationWindowSeconds }}
  selectPolicy: Max
  policies:
    - type: Percent
      value: {{ $a.scaleUp.percent }}
      periodSeconds: {{ $a.scaleUp.periodSeconds }}
    - type: Pods
      value: {{ $a.scaleUp.pods }}
      periodSeconds: {{ $a.scaleUp.periodSeconds }}
scaleDown:
  stabilizationWindowSeconds: {{ $a.scaleDown.stabilizationWindowSeconds }}
  selectPolicy: Min
  policies:
    - type: Percent
      value: {{ $a.scaleDown.percent }}
      periodSeconds: {{ $a.scaleDown.periodSeconds }}
    - type: Pods
      value: {{ $a.scaleDown.pods }}
      periodSeconds: {{ $a.scaleDown.periodSeconds }}
{{- end -}}

{{/* Gateway scaling behavior: up on demand, down one pod a minute after a long window (reconnect storms). */}}
{{- define "neonpro.gatewayScalingBehavior" -}}
{{- $d := .Values.gateway.autoscaling.scaleDown -}}
scaleUp:
  stabilizationWindowSeconds: 0
  selectPolicy: Max
  policies:
    - type: Percent
      value: 100
      periodSeconds: 30
scaleDown:
  stabilizationWindowSeconds: {{ $d.stabilizationWindowSeconds }}
  selectPolicy: Min
  policies:
    - type: Pods
      value: {{ $d.pods }}
      periodSeconds: {{ $d.periodSeconds }}
{{- end -}}
