//go:build linux

package runc

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// tapResult is one TAP test point.
type tapResult string

const (
	tapPass tapResult = "pass"
	tapFail tapResult = "fail"
	tapSkip tapResult = "skip"
)

// tapCase is one test point of a runtime-tools executable.
type tapCase struct {
	// Key names it: "exe description", with " #K" for the K-th point of
	// the same description (runtimetest checks some things in map order,
	// so point numbers differ between runs; descriptions do not).
	Key    string
	Result tapResult
}

var tapLine = regexp.MustCompile(`^(not ok|ok)\b\s*(\d*)\s*-?\s*(.*)$`)

// parseTAP reads the test points of one executable's TAP stream (the
// indented YAML diagnostics are skipped). A point with a "# SKIP"
// directive is a skip, whether it reads ok or not ok.
func parseTAP(exe string, r io.Reader) []tapCase {
	var out []tapCase
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	seen := map[string]int{}
	for sc.Scan() {
		m := tapLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		n++
		desc := m[3]
		res := tapPass
		if m[1] == "not ok" {
			res = tapFail
		}
		if i := strings.Index(strings.ToUpper(desc), "# SKIP"); i >= 0 {
			res, desc = tapSkip, strings.TrimSpace(desc[:i])
		} else if i := strings.Index(strings.ToUpper(desc), "# TODO"); i >= 0 {
			desc = strings.TrimSpace(desc[:i])
		}
		desc = strings.TrimSpace(desc)
		if desc == "" {
			desc = fmt.Sprintf("point %d", n)
		}
		key := exe + " " + desc
		if seen[key]++; seen[key] > 1 {
			key = fmt.Sprintf("%s #%d", key, seen[key])
		}
		out = append(out, tapCase{Key: key, Result: res})
	}
	return out
}
