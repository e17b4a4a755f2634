package driver

import (
	"strings"
	"testing"

	"github.com/containerd/errdefs"
)

func TestValidID(t *testing.T) {
	for id, want := range map[string]bool{
		"a": true, "web-1": true, "A.b_c-9": true, "0abc": true,
		strings.Repeat("x", 128): true,
		"":                       false, strings.Repeat("x", 129): false,
		"../x": false, ".hidden": false, "-x": false, "_x": false,
		"a/b": false, "a b": false, "a\x00": false, "é": false,
	} {
		if got := ValidID(id); got != want {
			t.Errorf("ValidID(%q) = %v, want %v", id, got, want)
		}
	}
	if err := ValidateID("container id", "../x"); !errdefs.IsInvalidArgument(err) || !strings.Contains(err.Error(), `"../x"`) {
		t.Errorf("ValidateID(../x) = %v, want InvalidArgument naming the id", err)
	}
}
