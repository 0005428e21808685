package main

import (
	"fmt"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"
)

// version is set at link time for releases (-ldflags "-X main.version=v1.2.3");
// otherwise the module version from the build info is used.
var version = ""

// buildVersion reports relix's version and the VCS commit it was built from,
// when the toolchain recorded one.
func buildVersion() (ver, commit string) {
	ver, commit = version, "unknown"
	info, ok := debug.ReadBuildInfo()
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

func versionCommand(p *process) *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print relix's version, commit and Go version",
		Action: func(c *cli.Context) error {
			ver, commit := buildVersion()
			fmt.Fprintf(p.stdout, "relix %s (commit %s, %s %s/%s)\n", ver, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
}

// gitHead reads the commit of the working directory's checkout.
func gitHead() (string, error) {
	out, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}
