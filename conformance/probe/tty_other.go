//go:build !linux

package probe

func isTTY(fd int) bool { return false }
