//go:build linux

package runc

import (
	"strings"
	"testing"
)

func TestParseTAP(t *testing.T) {
	in := `TAP version 13
ok 1 - has a thing
  ---
  {"ok 7": "not a point"}
  ...
not ok 2 - does another
ok 3 # SKIP no hugetlb here
not ok 4 - masked # skip not here
ok 5 - has a thing
1..5
`
	got := parseTAP("x.t", strings.NewReader(in))
	want := []tapCase{
		{"x.t has a thing", tapPass}, {"x.t does another", tapFail},
		{"x.t point 3", tapSkip}, {"x.t masked", tapSkip}, {"x.t has a thing #2", tapPass},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("point %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
