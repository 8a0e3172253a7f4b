// Command backchannel is a self-hosted server that speaks Slack's Web API for
// conversation history and enterprise analytics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// command is one subcommand: its own FlagSet, usage text and Run.
type command interface {
	Name() string
	Synopsis() string
	Run(ctx context.Context, args []string) error
}

// usageError is a mistake on the command line: main prints it with the
// command's usage and exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func commands(stdin io.Reader, stdout, stderr io.Writer) []command {
	env := &cliEnv{stdin: stdin, stdout: stdout, stderr: stderr}
	return []command{
		&serveCmd{env: env},
		&demoCmd{env: env},
		&importCmd{env: env},
		&tokenCmd{env: env},
		&migrateCmd{env: env},
		&analyticsCmd{env: env},
	}
}

// cliEnv is what every subcommand may touch of the outside world.
type cliEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands(stdin, stdout, stderr)
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(stderr, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	for _, c := range cmds {
		if c.Name() != args[0] {
			continue
		}
		err := c.Run(ctx, args[1:])
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "backchannel %s: %s\n", c.Name(), ue.msg)
			return 2
		default:
			fmt.Fprintf(stderr, "backchannel %s: %s\n", c.Name(), oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(stderr, "backchannel: unknown command %q\n", args[0])
	printUsage(stderr, cmds)
	return 2
}

func printUsage(w io.Writer, cmds []command) {
	fmt.Fprintln(w, "usage: backchannel <command> [flags]")
	fmt.Fprintln(w)
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name(), c.Synopsis())
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Every flag also reads BACKCHANNEL_<FLAG> (e.g. BACKCHANNEL_DB, BACKCHANNEL_RATE_LIMIT).")
	fmt.Fprintln(w, "Run 'backchannel <command> -h' for a command's flags.")
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// newFlagSet returns a FlagSet whose usage prints to stderr.
func newFlagSet(env *cliEnv, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(env.stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.stderr, "usage: backchannel %s\n\nflags (each also read from BACKCHANNEL_<FLAG>):\n", usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags applies BACKCHANNEL_<FLAG> environment defaults, then args.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "BACKCHANNEL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = &usageError{fmt.Sprintf("%s=%q: %v", name, v, err)}
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{err.Error()}
	}
	return nil
}
