package conformance

import "github.com/rtd-project/rtd/driver"

// unikernelOnly marks clauses that do not apply to the unikernel class: its
// container's process is the VMM, the guest program alone in its VM (no
// signal reaches it; a console has no end of file).
var unikernelOnly = []driver.IsolationClass{driver.IsolationUnikernel}
