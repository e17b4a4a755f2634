package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"
)

// templateFuncs are docker's template functions (--format).
var templateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":     strings.Join,
	"split":    strings.Split,
	"lower":    strings.ToLower,
	"upper":    strings.ToUpper,
	"title":    strings.Title, //nolint:staticcheck // docker's "title" is the same
	"truncate": func(s string, n int) string { return shorten(s, n) },
	"pad":      func(s string, l, r int) string { return strings.Repeat(" ", l) + s + strings.Repeat(" ", r) },
}

// parseFormat parses a --format value: "json" is one JSON object per line,
// "table ..." a table with a header (docker's forms), anything else a Go
// template. An invalid template is a usage error naming it.
func parseFormat(format string) (*template.Template, bool, error) {
	table := false
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ' || rest[0] == '\t') {
		table, format = true, strings.TrimSpace(rest)
	}
	if format == "json" {
		format = "{{json .}}"
	}
	tmpl, err := template.New("format").Funcs(templateFuncs).Parse(format)
	if err != nil {
		return nil, false, usageError(fmt.Errorf("invalid --format %q: %v", format, err))
	}
	return tmpl, table, nil
}

// printFormatted prints v through a --format template, with a newline.
func printFormatted(w io.Writer, format string, v any) error {
	tmpl, _, err := parseFormat(format)
	if err != nil {
		return err
	}
	return execTemplate(w, tmpl, v)
}

func execTemplate(w io.Writer, tmpl *template.Template, v any) error {
	var sb strings.Builder
	if err := tmpl.Execute(&sb, v); err != nil {
		return usageError(fmt.Errorf("template: %v", err))
	}
	_, err := fmt.Fprintln(w, sb.String())
	return err
}

// execTemplateRaw is execTemplate with docker inspect's fallback: a
// template that fails on the typed value is run on its JSON form (a map),
// so both .ID and docker's JSON name .Id work.
func execTemplateRaw(w io.Writer, tmpl *template.Template, v any) error {
	var sb strings.Builder
	err := tmpl.Execute(&sb, v)
	if err != nil {
		var raw any
		if b, merr := json.Marshal(v); merr == nil && json.Unmarshal(b, &raw) == nil {
			sb.Reset()
			if tmpl.Option("missingkey=error").Execute(&sb, raw) == nil {
				err = nil
			}
		}
	}
	if err != nil {
		return usageError(fmt.Errorf("template: %v", err))
	}
	_, err = fmt.Fprintln(w, sb.String())
	return err
}
