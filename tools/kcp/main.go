// Command kcp is a multi-call binary holding the Kubernetes control-plane components the test
// suite runs on loopback: `kcp etcd ...`, `kcp kube-apiserver ...` and whatever else registers
// itself in components. One binary links the shared Kubernetes packages once.
package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
)

// components maps a subcommand to the function that runs it with the remaining arguments and
// returns the process exit code. Each component's file adds itself from init.
var components = map[string]func(args []string) int{}

func register(name string, run func(args []string) int) {
	if _, dup := components[name]; dup {
		panic("kcp: component registered twice: " + name)
	}
	components[name] = run
}

func names() []string {
	out := make([]string, 0, len(components))
	for name := range components {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func usage() string {
	return "usage: kcp COMPONENT [FLAGS...]\n  components: " + strings.Join(names(), ", ") +
		"\n  kcp COMPONENT --help lists that component's own flags.\n"
}

func main() {
	if len(os.Args) < 2 || os.Args[1] == "-h" || os.Args[1] == "--help" {
		fmt.Fprint(os.Stderr, usage())
		os.Exit(2)
	}
	run, ok := components[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "kcp: unknown component %q\n%s", os.Args[1], usage())
		os.Exit(2)
	}
	os.Exit(run(os.Args[2:]))
}
