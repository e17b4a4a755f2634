package core

import "testing"

func TestUnescapeMountPath(t *testing.T) {
	if got := unescapeMountPath(`/a\040b/c\134d`); got != `/a b/c\d` {
		t.Fatalf("unescapeMountPath = %q", got)
	}
	if got := unescapeMountPath(`/plain`); got != "/plain" {
		t.Fatalf("unescapeMountPath = %q", got)
	}
}
