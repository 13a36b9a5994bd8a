package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

func object(t *testing.T, text string) *unstructured.Unstructured {
	t.Helper()
	var m map[string]interface{}
	if err := yaml.Unmarshal([]byte(text), &m); err != nil {
		t.Fatal(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func TestPodTemplatePaths(t *testing.T) {
	const spec = "{containers: [{name: c, image: i}]}"
	cases := []struct {
		name   string
		object string
		paths  []string
		failed []bool
	}{
		{name: "a Pod is its own template", object: "apiVersion: v1\nkind: Pod\nspec: " + spec, paths: []string{"."}, failed: []bool{false}},
		{name: "a Deployment's template, once", object: "apiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: " + spec + "}}", paths: []string{".spec.template"}, failed: []bool{false}},
		{name: "a CronJob's", object: "apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: " + spec + "}}}}", paths: []string{".spec.jobTemplate.spec.template"}, failed: []bool{false}},
		{name: "a built-in kind with a wrong type", object: "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: x, template: {spec: " + spec + "}}", paths: []string{".spec.template"}, failed: []bool{true}},
		{name: "a custom resource's, in key order", object: "apiVersion: x/v1\nkind: X\nspec: {b: {template: {spec: " + spec + "}}, a: [{spec: " + spec + "}, {podSpec: " + spec + "}]}", paths: []string{".spec.a[0]", ".spec.a[1].podSpec", ".spec.b.template"}, failed: []bool{false, false, false}},
		{name: "containers not a list: no pod spec by shape", object: "apiVersion: x/v1\nkind: X\nspec: {template: {spec: {containers: x}}}", paths: nil, failed: nil},
		{name: "a wrong type in a custom resource's pod spec", object: "apiVersion: x/v1\nkind: X\nspec: {template: {spec: {hostPID: 'yes', containers: []}}}", paths: []string{".spec.template"}, failed: []bool{true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var paths []string
			var failed []bool
			for _, p := range podTemplates(object(t, c.object)) {
				paths = append(paths, p.path)
				failed = append(failed, p.err != nil)
			}
			if !reflect.DeepEqual(paths, c.paths) || !reflect.DeepEqual(failed, c.failed) {
				t.Errorf("got %v %v, want %v %v", paths, failed, c.paths, c.failed)
			}
		})
	}
}

func TestRun(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stdout string
		stderr string
	}{
		{name: "clean", args: nil, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", code: 0},
		{name: "inventory", args: []string{"--inventory"}, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: ns}\n---\napiVersion: v1\nkind: Namespace\n", code: 0, stdout: "ConfigMap ns a\nNamespace - -\n"},
		{name: "a violation", args: []string{"--level", "baseline"}, stdin: "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {hostIPC: true, containers: [{name: c}]}\n", code: 1, stdout: "Pod/p .: violates PodSecurity \"baseline:latest\": host namespaces (hostIPC=true)\n"},
		{name: "unreadable: nothing on stdout", args: []string{"--inventory"}, stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n--- x\n", code: 2, stderr: "invalid Yaml document separator"},
		{name: "an unknown level", args: []string{"--level", "privileged"}, stdin: "", code: 2, stderr: "--level must be restricted or baseline"},
		{name: "an argument", args: []string{"file.yaml"}, stdin: "", code: 2, stderr: "the stream is read from stdin"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(c.args, strings.NewReader(c.stdin), &stdout, &stderr)
			if code != c.code || stdout.String() != c.stdout || !strings.Contains(stderr.String(), c.stderr) {
				t.Errorf("got %d %q %q, want %d %q %q", code, stdout.String(), stderr.String(), c.code, c.stdout, c.stderr)
			}
		})
	}
}
