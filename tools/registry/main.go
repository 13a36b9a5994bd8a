// Command registry is the CNCF distribution registry (github.com/distribution/distribution/v3)
// for the test suite's OCI chart mirror: upstream's own `registry serve CONFIG` command, built
// with the filesystem storage driver only (the cloud drivers of upstream's cmd/registry only
// slow the build; the suite stores blobs on local disk).
package main

import (
	"os"

	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

func main() {
	if err := registry.RootCmd.Execute(); err != nil {
		os.Exit(1)
	}
}
