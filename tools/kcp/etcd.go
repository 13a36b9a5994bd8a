package main

import "go.etcd.io/etcd/server/v3/etcdmain"

// etcd is the real etcd server main (etcd's own flags); it exits the process itself.
func init() {
	register("etcd", func(args []string) int {
		etcdmain.Main(append([]string{"etcd"}, args...))
		return 0
	})
}
