{{- define "mini.fullname" -}}
{{- default (printf "%s-locust" .Release.Name) .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- define "mini.labels" -}}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
app.kubernetes.io/name: locust
app.kubernetes.io/instance: {{ .Release.Name }}
load_test: {{ .Values.loadtest.name }}
{{- end -}}
{{- define "mini.pod" -}}
{{- $role := index . 0 -}}{{- $root := index . 1 -}}{{- $v := index $root.Values $role -}}
metadata:
  labels:
    component: {{ $role }}
    {{- include "mini.labels" $root | nindent 4 }}
spec:
  securityContext:
    {{- toYaml $root.Values.podSecurityContext | nindent 4 }}
  serviceAccountName: {{ include "mini.fullname" $root }}-{{ $role }}
  {{- /* Interpolated bare, as the DeliveryHero chart does (no quote, no toYaml). */}}
  restartPolicy: {{ $v.restartPolicy }}
  {{- with $v.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
  - name: locust
    image: "{{ if $v.image }}{{ $v.image }}{{ else }}{{ $root.Values.image.repository }}:{{ $root.Values.image.tag }}{{ end }}"
    imagePullPolicy: {{ $root.Values.image.pullPolicy }}
    securityContext:
      {{- toYaml $root.Values.securityContext | nindent 6 }}
    {{- with $v.command }}
    command:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    args:
    - --{{ $role }}
    {{- with $v.args }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
    resources:
      {{- toYaml $v.resources | nindent 6 }}
    env:
    - name: LOCUST_HOST
      value: {{ $root.Values.loadtest.locust_host | quote }}
    - name: LOCUST_LOCUSTFILE
      value: "{{ $root.Values.loadtest.locust_locustfile_path }}/{{ $root.Values.loadtest.locust_locustfile }}"
    {{- if eq $role "worker" }}
    - name: LOCUST_MASTER_NODE_HOST
      value: {{ include "mini.fullname" $root | quote }}
    {{- end }}
    {{- range $k, $val := $root.Values.loadtest.environment }}
    - name: {{ $k }}
      value: {{ $val | quote }}
    {{- end }}
    {{- with $v.readinessProbe }}
    readinessProbe:
      {{- toYaml . | nindent 6 }}
    {{- end }}
    volumeMounts:
    {{- if $root.Values.loadtest.locust_locustfile_configmap }}
    - name: locustfile
      mountPath: {{ $root.Values.loadtest.locust_locustfile_path | quote }}
    {{- end }}
    {{- if $root.Values.loadtest.locust_lib_configmap }}
    - name: lib
      mountPath: "{{ $root.Values.loadtest.locust_locustfile_path }}/lib"
    {{- end }}
    {{- with $v.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  {{- with $v.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $v.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  volumes:
  {{- if $root.Values.loadtest.locust_locustfile_configmap }}
  - name: locustfile
    configMap:
      name: {{ $root.Values.loadtest.locust_locustfile_configmap }}
  {{- end }}
  {{- if $root.Values.loadtest.locust_lib_configmap }}
  - name: lib
    configMap:
      name: {{ $root.Values.loadtest.locust_lib_configmap }}
  {{- end }}
  {{- with $v.extraVolumes }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end -}}
