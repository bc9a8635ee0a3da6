// Command vigil is a container image security scanner. See README.md.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigilsec/vigil/internal/cli"
)

// Set by the build: -ldflags "-X main.version=... -X main.commit=...".
var (
	version = ""
	commit  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := cli.Execute(ctx, cli.Env{Stdout: os.Stdout, Stderr: os.Stderr, Version: version, Commit: commit}, os.Args[1:])
	stop()
	os.Exit(cli.Code(err))
}
