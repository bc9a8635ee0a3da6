// Package cli defines vigil's command line: subcommands and flags only. Each
// command turns its flags into options for the scan service, which does the
// work; nothing here re-implements a pipeline stage.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigilsec/vigil/image"
	"github.com/vigilsec/vigil/image/progress"
)

// Exit codes. They are documented in docs/exit-codes.md and stable.
const (
	ExitOK           = 0
	ExitPolicyFailed = 1
	ExitError        = 2
	ExitUsage        = 3
)

// ExitError carries a specific exit code out of a command.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// usageError marks bad flags or arguments.
func usageError(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// PolicyFailed is returned when findings break the configured policy.
type PolicyFailed struct {
	Code    int
	Message string
}

func (p *PolicyFailed) Error() string { return p.Message }

// Code maps an error returned by Execute to a process exit code.
func Code(err error) int {
	if err == nil {
		return ExitOK
	}
	var pf *PolicyFailed
	if errors.As(err, &pf) {
		return pf.Code
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitError
}

// Env is what the CLI needs from the process: streams and build facts.
type Env struct {
	Stdout, Stderr io.Writer
	Version        string
	Commit         string
}

// globals are the flags every command shares.
type globals struct {
	env      Env
	quiet    bool
	logLevel string
	format   string
	output   []string
	cacheDir string
	noColor  bool
	logger   *slog.Logger

	// image source flags
	platform   string
	username   string
	password   string
	insecure   bool
	dockerHost string

	bars     progress.Reporter
	template string

	cpuProfile, memProfile string
	stopProfile            func()
}

// imageOptions turns the source flags into image options. Progress for
// pulls is drawn on stderr (bars on a terminal); the caller waits for it
// with g.progressDone once the scan is over.
func (g *globals) imageOptions() (image.Options, error) {
	o := image.Options{Username: g.username, Password: g.password, Insecure: g.insecure,
		DockerHost: g.dockerHost, CacheDir: g.cacheDir, Quiet: g.quiet, TempDir: g.tempDir()}
	if g.platform != "" {
		p, err := parsePlatform(g.platform)
		if err != nil {
			return o, err
		}
		o.Platform = &p
	}
	if err := os.MkdirAll(o.TempDir, 0o700); err != nil {
		return o, fmt.Errorf("creating temp dir %s: %w (set --cache-dir)", o.TempDir, err)
	}
	if g.bars == nil {
		g.bars = g.progressFor(context.Background())
	}
	o.Progress = g.bars
	return o, nil
}

// progressDone finishes the progress bars, if any were drawn.
func (g *globals) progressDone() {
	if g.bars != nil {
		g.bars.Wait()
		g.bars = nil
	}
}

func (g *globals) tempDir() string { return filepath.Join(g.cacheDir, "tmp") }

func parsePlatform(s string) (image.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return image.Platform{}, usageError("--platform %q: want os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8", s)
	}
	p := image.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// terminalWidth is the width of w when it is a terminal, else 0 (no limit).
func terminalWidth(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil {
		return 0
	}
	return width
}

// NewRoot builds the root command.
func NewRoot(env Env) *cobra.Command {
	g := &globals{env: env}
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Container image security scanner",
		Long: `vigil finds what is inside a container image (every OS and language package,
with the layer and Dockerfile step that brought it in), what is known to be
vulnerable, and what is badly built, and says what to do about it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.setup()
		},
	}
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &exitError{code: ExitUsage, err: err} })
	pf := root.PersistentFlags()
	pf.BoolVarP(&g.quiet, "quiet", "q", false, "no progress or log output on stderr, only errors")
	pf.StringVar(&g.logLevel, "log-level", "warn", "log level: debug, info, warn, error")
	pf.StringVarP(&g.format, "format", "f", "", "output format (depends on the command; see its help)")
	pf.StringArrayVarP(&g.output, "output", "o", nil, "write the report to FILE instead of stdout; FORMAT=FILE writes that format there (repeatable)")
	pf.StringVar(&g.cacheDir, "cache-dir", defaultCacheDir(), "directory for the vulnerability database, layer cache and temporary files")
	pf.BoolVar(&g.noColor, "no-color", false, "never colour the output")
	pf.StringVar(&g.cpuProfile, "cpuprofile", os.Getenv("VIGIL_CPUPROFILE"), "write a CPU profile to this file (go tool pprof)")
	pf.StringVar(&g.memProfile, "memprofile", os.Getenv("VIGIL_MEMPROFILE"), "write a heap profile to this file when the command ends")
	pf.MarkHidden("cpuprofile")
	pf.MarkHidden("memprofile")
	root.PersistentPostRun = func(*cobra.Command, []string) { g.finishProfiles() }
	root.AddCommand(
		newInspectCommand(g),
		newImageCommand(g),
		newRootFSCommand(g),
		newSBOMCommand(g),
		newSBOMScanCommand(g),
		newDockerfileCommand(g),
		newConfigCommand(g),
		newContainersCommand(g),
		newDBCommand(g),
		newCacheCommand(g),
		newVersionCommand(g),
	)
	return root
}

func (g *globals) setup() error {
	var lvl slog.Level
	switch strings.ToLower(g.logLevel) {
	case "debug":
		lvl = slog.LevelDebug
	case "info":
		lvl = slog.LevelInfo
	case "warn", "warning", "":
		lvl = slog.LevelWarn
	case "error":
		lvl = slog.LevelError
	default:
		return usageError("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	if g.quiet {
		lvl = slog.LevelError
	}
	g.logger = slog.New(slog.NewTextHandler(g.env.Stderr, &slog.HandlerOptions{Level: lvl}))
	if g.cacheDir == "" {
		return usageError("no cache directory: set --cache-dir or VIGIL_CACHE_DIR")
	}
	return g.startProfiles()
}

// startProfiles starts CPU profiling when asked (--cpuprofile or
// VIGIL_CPUPROFILE), so anyone can see where a scan's time goes.
func (g *globals) startProfiles() error {
	if g.cpuProfile == "" {
		return nil
	}
	f, err := os.Create(g.cpuProfile)
	if err != nil {
		return fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpu profile: %w", err)
	}
	g.stopProfile = func() { pprof.StopCPUProfile(); f.Close() }
	return nil
}

func (g *globals) finishProfiles() {
	if g.stopProfile != nil {
		g.stopProfile()
		g.stopProfile = nil
	}
	if g.memProfile != "" {
		if f, err := os.Create(g.memProfile); err == nil {
			runtime.GC()
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
}

func defaultCacheDir() string {
	if d := os.Getenv("VIGIL_CACHE_DIR"); d != "" {
		return d
	}
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "vigil")
	}
	return filepath.Join(os.TempDir(), "vigil-cache")
}

// Execute runs the command line and returns the error to map to an exit code.
func Execute(ctx context.Context, env Env, args []string) error {
	root := NewRoot(env)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err != nil && !isReported(err) {
		fmt.Fprintf(env.Stderr, "vigil: %v\n", err)
	}
	return err
}

func isReported(err error) bool {
	var pf *PolicyFailed
	return errors.As(err, &pf) && pf.Message == ""
}

func newVersionCommand(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print vigil's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := g.env.Version
			if v == "" {
				v = "dev"
			}
			_, err := fmt.Fprintf(g.env.Stdout, "vigil %s (commit %s, %s, %s/%s)\n", v, orNone(g.env.Commit), runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return err
		},
	}
}

func orNone(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
