package kit_test

import (
	"os/exec"
	"strings"
	"testing"
)

// What an out-of-tree driver author imports (the SDK, its test harness, the
// kit, the conformance suite and the skeleton they start from) must not need rtd's private parts: nothing
// under internal/, core/, drivers/ or cmd/, in any of them or their
// dependencies.
func TestPublicPackagesImportNoInternals(t *testing.T) {
	const module = "github.com/rtd-project/rtd/"
	public := []string{module + "driver/...", module + "kit/...", module + "conformance/...", module + "examples/..."}
	for _, goos := range []string{"linux", "windows", "freebsd"} {
		cmd := exec.Command("go", append([]string{"list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`}, public...)...)
		cmd.Env = append(cmd.Environ(), "GOOS="+goos, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list (GOOS=%s): %v\n%s", goos, err, out)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			pkg, imports, _ := strings.Cut(line, " ")
			for _, imp := range strings.Fields(imports) {
				for _, private := range []string{"internal/", "core", "drivers/", "cmd/"} {
					if imp == module+strings.TrimSuffix(private, "/") || strings.HasPrefix(imp, module+private) {
						t.Errorf("GOOS=%s: %s imports %s: public packages must not import rtd's %s", goos, pkg, imp, private)
					}
				}
			}
		}
	}
}
