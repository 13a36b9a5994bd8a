package main

import (
	_ "time/tzdata" // CronJob time zones, as upstream's kube-apiserver main links it

	"k8s.io/component-base/cli"
	_ "k8s.io/component-base/logs/json/register"          // the JSON log format upstream's main registers
	_ "k8s.io/component-base/metrics/prometheus/clientgo" // client-go metrics, as upstream's main
	_ "k8s.io/component-base/metrics/prometheus/version"  // the version metric, as upstream's main
	apiserver "k8s.io/kubernetes/cmd/kube-apiserver/app"
)

func init() {
	register("kube-apiserver", func(args []string) int {
		command := apiserver.NewAPIServerCommand()
		command.SetArgs(args)
		return cli.Run(command)
	})
}
