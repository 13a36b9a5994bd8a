package main

import (
	"k8s.io/component-base/cli"
	kcm "k8s.io/kubernetes/cmd/kube-controller-manager/app"
	scheduler "k8s.io/kubernetes/cmd/kube-scheduler/app"
)

// The controller manager and the scheduler, for a control plane whose Deployments make pods and
// whose pods get nodes. The blank imports upstream's mains add are in apiserver.go, linked once.
func init() {
	register("kube-controller-manager", func(args []string) int {
		command := kcm.NewControllerManagerCommand()
		command.SetArgs(args)
		return cli.Run(command)
	})
	register("kube-scheduler", func(args []string) int {
		command := scheduler.NewSchedulerCommand()
		command.SetArgs(args)
		return cli.Run(command)
	})
}
