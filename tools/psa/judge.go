package main

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/pod-security-admission/admission"
	"k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
	kjson "sigs.k8s.io/json"
)

// judge evaluates pod templates at one Pod Security level, latest version.
type judge struct {
	evaluator policy.Evaluator
	level     api.LevelVersion
}

func newJudge(level string) (*judge, error) {
	var l api.Level
	switch level {
	case "restricted":
		l = api.LevelRestricted
	case "baseline":
		l = api.LevelBaseline
	default:
		return nil, fmt.Errorf("--level must be restricted or baseline, not %q", level)
	}
	evaluator, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		return nil, err
	}
	return &judge{evaluator: evaluator, level: api.LevelVersion{Level: l, Version: api.LatestVersion()}}, nil
}

// podTemplate is one place in an object that Kubernetes makes pods from.
type podTemplate struct {
	// path from the object to the template (metadata + spec), or to the pod spec itself when
	// it is not held as a template's `spec`; "." for the object itself (a Pod).
	path string
	meta *metav1.ObjectMeta
	spec *corev1.PodSpec
	// why the template cannot be decoded as the API server decodes it, if it cannot.
	err error
}

// object returns one line per pod template of obj that violates the level.
func (j *judge) object(obj *unstructured.Unstructured) []string {
	var lines []string
	for _, t := range podTemplates(obj) {
		who := fmt.Sprintf("%s/%s %s", obj.GetKind(), orDash(obj.GetName()), t.path)
		if t.err != nil {
			lines = append(lines, fmt.Sprintf("%s: does not decode as a pod template (the API server rejects it): %v", who, t.err))
			continue
		}
		result := policy.AggregateCheckResults(j.evaluator.EvaluatePod(j.level, t.meta, t.spec))
		if !result.Allowed {
			lines = append(lines, fmt.Sprintf("%s: violates PodSecurity %q: %s", who, j.level.String(), result.ForbiddenDetail()))
		}
	}
	return lines
}

// builtIn is a kind Pod Security admission extracts a pod template from, with where it is.
type builtIn struct {
	newObject func() runtime.Object
	template  []string
}

// The kinds (at their served versions) admission.DefaultPodSpecExtractor knows.
var builtIns = map[schema.GroupVersionKind]builtIn{
	corev1.SchemeGroupVersion.WithKind("Pod"):                   {func() runtime.Object { return &corev1.Pod{} }, nil},
	corev1.SchemeGroupVersion.WithKind("PodTemplate"):           {func() runtime.Object { return &corev1.PodTemplate{} }, []string{"template"}},
	corev1.SchemeGroupVersion.WithKind("ReplicationController"): {func() runtime.Object { return &corev1.ReplicationController{} }, []string{"spec", "template"}},
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):            {func() runtime.Object { return &appsv1.ReplicaSet{} }, []string{"spec", "template"}},
	appsv1.SchemeGroupVersion.WithKind("Deployment"):            {func() runtime.Object { return &appsv1.Deployment{} }, []string{"spec", "template"}},
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):           {func() runtime.Object { return &appsv1.StatefulSet{} }, []string{"spec", "template"}},
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):             {func() runtime.Object { return &appsv1.DaemonSet{} }, []string{"spec", "template"}},
	batchv1.SchemeGroupVersion.WithKind("Job"):                  {func() runtime.Object { return &batchv1.Job{} }, []string{"spec", "template"}},
	batchv1.SchemeGroupVersion.WithKind("CronJob"):              {func() runtime.Object { return &batchv1.CronJob{} }, []string{"spec", "jobTemplate", "spec", "template"}},
}

// podTemplates finds every pod template of obj: the one admission extracts from a built-in
// kind (the whole object decoded as the API server decodes it), and every mapping anywhere
// whose `containers` is a list (custom resources embed pod specs), not looking inside those.
func podTemplates(obj *unstructured.Unstructured) []podTemplate {
	var found []podTemplate
	covered := ""
	if b, ok := builtIns[obj.GroupVersionKind()]; ok {
		t := extractBuiltIn(obj, b)
		covered = pathOf(append(append([]string{}, b.template...), "spec"))
		if t != nil {
			found = append(found, *t)
		}
	}
	walk(obj.Object, nil, func(at []string, spec map[string]interface{}, parent map[string]interface{}) {
		if pathOf(at) == covered {
			return
		}
		found = append(found, decodeShape(at, spec, parent))
	})
	return found
}

// extractBuiltIn decodes the whole object into its Go type, case-sensitively and keeping
// integers, as the API server does, and lets admission's extractor find the template.
func extractBuiltIn(obj *unstructured.Unstructured, b builtIn) *podTemplate {
	path := pathOf(b.template)
	typed := b.newObject()
	if err := decode(obj.Object, typed); err != nil {
		return &podTemplate{path: path, err: err}
	}
	meta, spec, err := admission.DefaultPodSpecExtractor{}.ExtractPodSpec(typed)
	if err != nil {
		return &podTemplate{path: path, err: err}
	}
	if spec == nil {
		return nil
	}
	return &podTemplate{path: path, meta: meta, spec: spec}
}

// decodeShape decodes a pod spec found by its shape, and its template's metadata when it is
// held as a template's `spec`.
func decodeShape(at []string, spec, parent map[string]interface{}) podTemplate {
	t := podTemplate{path: pathOf(at), meta: &metav1.ObjectMeta{}, spec: &corev1.PodSpec{}}
	if n := len(at); n > 0 && at[n-1] == ".spec" && parent != nil {
		t.path = pathOf(at[:n-1])
		if m, ok := parent["metadata"]; ok && m != nil {
			if err := decode(m, t.meta); err != nil {
				t.err = fmt.Errorf("metadata: %w", err)
				return t
			}
		}
	}
	if err := decode(spec, t.spec); err != nil {
		t.err = err
	}
	return t
}

// decode re-encodes a JSON value and decodes it into a Go type the way the API server reads
// a request body: field names match case-sensitively, unknown fields are dropped.
func decode(value interface{}, into interface{}) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return kjson.UnmarshalCaseSensitivePreserveInts(raw, into)
}

// walk calls found for every mapping whose `containers` is a list, with its path (one
// ".key" or "[i]" step per element) and the mapping holding it; it does not look inside those.
func walk(node interface{}, at []string, found func(at []string, spec, parent map[string]interface{})) {
	walkIn(node, nil, at, found)
}

func walkIn(node interface{}, parent map[string]interface{}, at []string, found func([]string, map[string]interface{}, map[string]interface{})) {
	switch n := node.(type) {
	case map[string]interface{}:
		if _, ok := n["containers"].([]interface{}); ok {
			found(at, n, parent)
			return
		}
		keys := make([]string, 0, len(n))
		for k := range n {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			walkIn(n[k], n, append(at[:len(at):len(at)], "."+k), found)
		}
	case []interface{}:
		for i, item := range n {
			walkIn(item, nil, append(at[:len(at):len(at)], "["+strconv.Itoa(i)+"]"), found)
		}
	}
}

// pathOf joins steps into ".spec.template"; "." is the object itself. Plain keys (without a
// leading "." or "[") are taken as keys.
func pathOf(steps []string) string {
	var b strings.Builder
	for _, s := range steps {
		if !strings.HasPrefix(s, ".") && !strings.HasPrefix(s, "[") {
			b.WriteString(".")
		}
		b.WriteString(s)
	}
	if b.Len() == 0 {
		return "."
	}
	return b.String()
}
