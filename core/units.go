package core

import (
	"strconv"
	"strings"

	"github.com/rtd-project/rtd/driver"
)

// ParseMemory parses a memory size as docker does: a number of bytes with
// an optional binary unit suffix b, k, m, g or t (case-insensitive, "kb",
// "mib" and friends also accepted): "64m" is 64 MiB, "1g" 1 GiB.
func ParseMemory(s string) (int64, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	num := strings.TrimRight(in, "abcdefghijklmnopqrstuvwxyz")
	unit := in[len(num):]
	var mult float64
	switch unit {
	case "", "b":
		mult = 1
	case "k", "kb", "kib":
		mult = 1 << 10
	case "m", "mb", "mib":
		mult = 1 << 20
	case "g", "gb", "gib":
		mult = 1 << 30
	case "t", "tb", "tib":
		mult = 1 << 40
	default:
		return 0, driver.InvalidArgumentf("invalid memory size %q: unknown unit %q (want b, k, m, g or t)", s, unit)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || num == "" || strings.ContainsAny(num, "eE+-xXpP_") {
		return 0, driver.InvalidArgumentf("invalid memory size %q: want a positive number with an optional unit, like 64m or 1g", s)
	}
	bytes := v * mult
	if bytes < 1 || bytes > float64(1<<62) {
		return 0, driver.InvalidArgumentf("invalid memory size %q: out of range", s)
	}
	return int64(bytes), nil
}
