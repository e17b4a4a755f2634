package conformance

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"strings"
)

func formatRow(r Result) string {
	msg := r.Message
	if len(msg) > 160 {
		msg = msg[:160] + "..."
	}
	return fmt.Sprintf("%-6s %-14s %-6s %8.0fms  %s%s", strings.ToUpper(string(r.Result)), r.ID, r.Level,
		r.DurationMS, r.Clause, map[bool]string{true: "\n" + strings.Repeat(" ", 38) + "-> " + msg, false: ""}[msg != ""])
}

// WriteTable prints one row per case and the summary line.
func (r *Report) WriteTable(w io.Writer) {
	state := "ready"
	if !r.Ready {
		state = "NOT READY: " + r.Health
	}
	fmt.Fprintf(w, "driver %s %s (%s)\n", r.Driver, r.Version, state)
	fmt.Fprintf(w, "%-6s %-14s %-6s %10s  %s\n", "RESULT", "CASE", "LEVEL", "TIME", "CLAUSE")
	for _, res := range r.Results {
		fmt.Fprintln(w, formatRow(res))
	}
	if r.Warned > 0 {
		fmt.Fprintf(w, "%d SHOULD case(s) not met (WARN rows above)\n", r.Warned)
	}
	fmt.Fprintln(w, r.Summary())
}

// WriteJSON writes the report as JSON to path.
func (r *Report) WriteJSON(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Skipped   *junitMessage `xml:"skipped,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit writes the report as JUnit XML to path.
func (r *Report) WriteJUnit(path string) error {
	s := junitSuite{Name: "rtd-conformance." + r.Driver, Tests: len(r.Results), Failures: r.Failed, Skipped: r.Skipped}
	for _, res := range r.Results {
		c := junitCase{Name: res.ID + " " + string(res.Level) + ": " + res.Clause, Classname: "conformance." + r.Driver, Time: res.DurationMS / 1000}
		switch res.Result {
		case Fail:
			c.Failure = &junitMessage{Message: res.Message}
		case Skip:
			c.Skipped = &junitMessage{Message: res.Message}
		}
		s.Cases = append(s.Cases, c)
	}
	data, err := xml.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append([]byte(xml.Header), append(data, '\n')...), 0o644)
}
