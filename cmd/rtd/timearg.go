package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// parseTimeArg reads a --since/--until value as docker does (moby's
// api/types/time.GetTimestamp): a Go duration before now ("10s", "1h30m"),
// an RFC 3339 time or date with or without fraction, zone, seconds or
// minutes (no zone: now's zone), or Unix seconds with an optional
// fraction ("1700000000.5").
func parseTimeArg(value string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(value); value != "0" && err == nil {
		return now.Add(-d), nil
	}
	local := !(strings.ContainsAny(value, "zZ+") || strings.Count(value, "-") == 3)
	var layout string
	switch {
	case strings.Contains(value, "."):
		layout = time.RFC3339Nano
		if local {
			layout = "2006-01-02T15:04:05.999999999"
		}
	case strings.Contains(value, "T"):
		colons := strings.Count(value, ":")
		if !local && !strings.ContainsAny(value, "zZ") && colons > 0 {
			colons-- // the zone offset's colon
		}
		layout = [][]string{
			{"2006-01-02T15Z07:00", "2006-01-02T15:04Z07:00", time.RFC3339},
			{"2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05"},
		}[b2i(local)][min(colons, 2)]
	case local:
		layout = "2006-01-02"
	default:
		layout = "2006-01-02Z07:00"
	}
	var t time.Time
	var err error
	if local {
		t, err = time.ParseInLocation(layout, value, now.Location())
	} else {
		t, err = time.Parse(layout, value)
	}
	if err == nil {
		return t, nil
	}
	if !strings.Contains(value, "-") {
		if t, ok := unixTime(value); ok {
			return t, nil
		}
	}
	return time.Time{}, usageError(fmt.Errorf("invalid time %q: want a duration such as 10m, RFC 3339 (2006-01-02T15:04:05Z) or Unix seconds", value))
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// unixTime reads "SECONDS[.FRACTION]".
func unixTime(value string) (time.Time, bool) {
	secStr, fracStr, hasFrac := strings.Cut(value, ".")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var nsec int64
	if hasFrac {
		if len(fracStr) == 0 || len(fracStr) > 9 {
			return time.Time{}, false
		}
		n, err := strconv.ParseInt(fracStr+strings.Repeat("0", 9-len(fracStr)), 10, 64)
		if err != nil || n < 0 {
			return time.Time{}, false
		}
		nsec = n
	}
	return time.Unix(sec, nsec), true
}
