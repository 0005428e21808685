package main

import (
	"fmt"
	"runtime"

	"github.com/relix-lab/relix/results"
	"github.com/urfave/cli/v2"
)

// buildVersion reports relix's version and the VCS commit it was built from,
// when the toolchain recorded one.
func (p *process) buildVersion() (ver, commit string) {
	ver, commit = p.version, "unknown"
	info, ok := p.buildInfo()
	if !ok {
		return orDevel(ver), commit
	}
	if ver == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
		ver = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			commit = s.Value
		}
	}
	return orDevel(ver), commit
}

func orDevel(v string) string {
	if v == "" {
		return "devel"
	}
	return v
}

// relixBuild identifies this build for a manifest: the commit it was built
// from or, for `go run` in a checkout (where the toolchain records none),
// the checkout's HEAD.
func (p *process) relixBuild() results.BuildInfo {
	ver, commit := p.buildVersion()
	if commit == "unknown" {
		if head, err := p.gitHead(); err == nil {
			commit = head
		}
	}
	return results.BuildInfo{Version: ver, Commit: commit}
}

func versionCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print relix's version, commit and Go version",
		Action: func(c *cli.Context) error {
			ver, commit := p.buildVersion()
			fmt.Fprintf(p.stdout, "relix %s (commit %s, %s %s/%s)\n", ver, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}
