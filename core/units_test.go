package core

import (
	"testing"

	"github.com/containerd/errdefs"
)

func TestParseMemory(t *testing.T) {
	for in, want := range map[string]int64{
		"64m": 64 << 20, "64M": 64 << 20, "1g": 1 << 30, "1G": 1 << 30, "512k": 512 << 10,
		"4096": 4096, "4096b": 4096, "2mb": 2 << 20, "1gib": 1 << 30, "1.5g": 3 << 29, " 8m ": 8 << 20, "1t": 1 << 40,
	} {
		got, err := ParseMemory(in)
		if err != nil || got != want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "m", "-1m", "0", "0m", "12x", "1e3", "0x10", "abc", "1..2m", "+5m"} {
		if _, err := ParseMemory(in); !errdefs.IsInvalidArgument(err) {
			t.Errorf("ParseMemory(%q) = %v, want InvalidArgument", in, err)
		}
	}
}
