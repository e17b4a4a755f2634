//go:build !unix

package core

import (
	"runtime"

	"github.com/rtd-project/rtd/driver"
)

func mkfifo(string) error {
	return driver.NotImplementedf("attached stdio needs FIFOs, which %s does not have; run detached (-d)", runtime.GOOS)
}
