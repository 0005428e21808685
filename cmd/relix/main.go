// Command relix runs paired RL experiments that differ only in where the
// training prompts come from. The logic lives in the library packages; this
// command only wires flags to them.
package main

import "os"

func main() {
	os.Exit(run(newProcess(), os.Args))
}
