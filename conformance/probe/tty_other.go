//go:build !linux && !wasip1

package probe

func isTTY(fd int) bool { return false }
