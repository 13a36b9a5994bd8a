// Command psa-judge reads a stream of Kubernetes objects the way kubectl and Helm read it and
// judges every pod template in it with Kubernetes' own Pod Security admission checks.
//
//	psa-judge [--level restricted|baseline] [--inventory] < stream
//
// It is a test-only tool of locust-planton (see README.md next to this file); it is never part
// of the shipped binary.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/cli-runtime/pkg/resource"
)

// Exit codes.
const (
	exitClean      = 0
	exitViolations = 1
	exitUnreadable = 2
)

const usage = `psa-judge: judge a stream of Kubernetes objects with Kubernetes' own Pod Security checks

Usage:
  psa-judge [--level restricted|baseline] [--inventory] < stream

The stream (YAML documents or JSON objects) is split, decoded and flattened by
k8s.io/cli-runtime's resource builder, as kubectl and Helm do it.

  --inventory   print one line "KIND NAMESPACE NAME" per object Kubernetes would create,
                in the builder's order ("-" for a missing namespace or name); nothing is judged
  --level       the Pod Security level every pod template is judged at (default restricted)

Otherwise one line per pod template that violates the level:
  KIND/NAME PATH: violates PodSecurity "restricted:latest": DETAIL

Exit status: 0 clean, 1 violations, 2 the stream cannot be read (message on stderr).

Examples:
  helm template r chart --post-renderer locust-planton | psa-judge
  psa-judge --level baseline < out.yaml
  psa-judge --inventory < out.yaml
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is the whole command; stdout gets nothing unless the stream was read in full.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("psa-judge", flag.ContinueOnError)
	flags.SetOutput(stderr)
	flags.Usage = func() { fmt.Fprint(stderr, usage) }
	level := flags.String("level", "restricted", "restricted or baseline")
	inventory := flags.Bool("inventory", false, "print the objects Kubernetes would create")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return exitClean
		}
		return exitUnreadable
	}
	if flags.NArg() != 0 {
		fmt.Fprintf(stderr, "psa-judge: unexpected argument %q (the stream is read from stdin)\n", flags.Arg(0))
		return exitUnreadable
	}
	judge, err := newJudge(*level)
	if err != nil {
		fmt.Fprintf(stderr, "psa-judge: %v\n", err)
		return exitUnreadable
	}
	objects, err := readObjects(stdin)
	if err != nil {
		fmt.Fprintf(stderr, "psa-judge: %v\n", err)
		return exitUnreadable
	}
	var out bytes.Buffer
	status := exitClean
	for _, obj := range objects {
		if *inventory {
			fmt.Fprintln(&out, inventoryLine(obj))
			continue
		}
		for _, v := range judge.object(obj) {
			fmt.Fprintln(&out, v)
			status = exitViolations
		}
	}
	if _, err := stdout.Write(out.Bytes()); err != nil {
		fmt.Fprintf(stderr, "psa-judge: %v\n", err)
		return exitUnreadable
	}
	return status
}

// readObjects returns every object Kubernetes would create from the stream, in the order the
// builder visits them, or every error the builder met (any error makes the stream unreadable:
// kubectl and Helm would create only part of it).
func readObjects(stream io.Reader) ([]*unstructured.Unstructured, error) {
	var objects []*unstructured.Unstructured
	err := resource.NewLocalBuilder().
		Unstructured().
		ContinueOnError().
		Stream(stream, "stdin").
		Flatten().
		Do().
		Visit(func(info *resource.Info, err error) error {
			if err != nil {
				return err
			}
			obj, ok := info.Object.(*unstructured.Unstructured)
			if !ok {
				return fmt.Errorf("%s: not an object after flattening (%T)", info.Source, info.Object)
			}
			objects = append(objects, obj)
			return nil
		})
	if err != nil {
		return nil, err
	}
	return objects, nil
}

// inventoryLine is "KIND NAMESPACE NAME", "-" standing for an empty namespace or name.
func inventoryLine(obj *unstructured.Unstructured) string {
	return strings.Join([]string{obj.GetKind(), orDash(obj.GetNamespace()), orDash(obj.GetName())}, " ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
