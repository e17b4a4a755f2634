package main

import (
	"testing"
	"time"
)

// --since/--until read docker's forms (moby's GetTimestamp).
func TestParseTimeArg(t *testing.T) {
	zone := time.FixedZone("X", 3600)
	now := time.Date(2026, 12, 7, 22, 30, 0, 0, zone)
	for in, want := range map[string]time.Time{
		"10s":                            now.Add(-10 * time.Second),
		"1h30m":                          now.Add(-90 * time.Minute),
		"-1h":                            now.Add(time.Hour),
		"2026-12-07T21:00:00Z":           time.Date(2026, 12, 7, 21, 0, 0, 0, time.UTC),
		"2026-12-07T21:00:00.5Z":         time.Date(2026, 12, 7, 21, 0, 0, 5e8, time.UTC),
		"2026-12-07T21:00:00+02:00":      time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC),
		"2026-12-07T21:00:00":            time.Date(2026, 12, 7, 21, 0, 0, 0, zone), // no zone: now's
		"2026-12-07T21:05":               time.Date(2026, 12, 7, 21, 5, 0, 0, zone),
		"2026-12-07T21":                  time.Date(2026, 12, 7, 21, 0, 0, 0, zone),
		"2026-12-07":                     time.Date(2026, 12, 7, 0, 0, 0, 0, zone),
		"2026-12-07T21:00:00.123456789Z": time.Date(2026, 12, 7, 21, 0, 0, 123456789, time.UTC),
		"1700000000":                     time.Unix(1700000000, 0),
		"1700000000.5":                   time.Unix(1700000000, 5e8),
		"0":                              time.Unix(0, 0),
	} {
		got, err := parseTimeArg(in, now)
		if err != nil || !got.Equal(want) {
			t.Errorf("parseTimeArg(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "2026-13-01", "1.2.3", ""} {
		if _, err := parseTimeArg(bad, now); err == nil {
			t.Errorf("parseTimeArg(%q): no error", bad)
		}
	}
}
