package vmm

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// MkfsErofs builds a read-only EROFS image of dir at img with the
// mkfs.erofs binary mkfs (erofs-utils). The tree is read, never mounted.
func MkfsErofs(ctx context.Context, mkfs, img, dir string) error {
	cmd := exec.CommandContext(ctx, mkfs, "--quiet", img, dir)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("mkfs.erofs %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}
