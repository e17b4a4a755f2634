package core

import (
	"debug/elf"

	"github.com/rtd-project/rtd/driver"
)

// CheckStatic makes sure path is a static ELF executable (no program
// interpreter), which the hello image needs: it runs in an empty root.
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return driver.FailedPreconditionf("image %q needs rtd to be a static Linux executable: %s: %v", HelloImage, path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return driver.FailedPreconditionf("rtd was built with cgo; rebuild with CGO_ENABLED=0 (make build)")
		}
	}
	return nil
}
