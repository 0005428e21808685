package worker

import "syscall"

// dieWithParent asks the kernel to SIGKILL the worker when the thread that
// started it ends; Go keeps its threads for the life of the process (none
// of relix's locks one and exits), so that is when relix ends.
func dieWithParent(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
