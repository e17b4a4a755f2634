package kit_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"slices"
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

// Every in-tree driver uses the kit as an outside author would, and none
// carries a copy of what the kit provides: the monitor-based drivers import
// kit/monitor (the monitor, its records and the shared lifecycle), no driver
// imports another package of rtd that does the kit's job (only the internal
// packages allowed below, each for what no driver author needs), and no
// driver declares again a helper the kit has (a spec loader, id check,
// atomic JSON writer, pid record, monitor spawn, exit reader).
func TestDriversUseTheKit(t *testing.T) {
	const module = "github.com/rtd-project/rtd/"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"drivers/...")
	cmd.Env = append(cmd.Environ(), "GOOS=linux")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// What a driver may take from internal/: nothing a driver author needs
	// to write a driver (see docs/driver-authors.md).
	allowed := map[string]string{
		"internal/vmm":     "QEMU, guest kernels and initramfs images of rtd's own VM drivers",
		"internal/wasmbin": "the wasm driver's embedded runtime pieces",
		"internal/guest":   "what the guest inits of rtd's own VMs share (modules, virtio devices)",
	}
	imports := map[string]map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, rest, _ := strings.Cut(line, " ")
		imports[pkg] = map[string]bool{}
		for _, imp := range strings.Fields(rest) {
			imports[pkg][imp] = true
			if p, ok := strings.CutPrefix(imp, module); ok && strings.HasPrefix(p, "internal/") && allowed[p] == "" {
				t.Errorf("%s imports %s: a driver takes what it shares from the kit (kit/...), not from internal/", pkg, imp)
			}
		}
	}
	for _, d := range []string{"linux", "gvisor", "vm", "wasm", "unikernel"} {
		if !imports[module+"drivers/"+d][module+"kit/monitor"] {
			t.Errorf("drivers/%s does not import kit/monitor: its monitor and lifecycle must be the kit's", d)
		}
	}
	copies := []string{"loadspec", "validateid", "writejsonatomic", "readjson", "writejson", "processstarttime",
		"readpidrecord", "recordpid", "spawnmonitor", "readexit", "writeexit", "monitorenv", "tail"}
	err = filepath.WalkDir("../drivers", func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			if fn, ok := decl.(*ast.FuncDecl); ok && slices.Contains(copies, strings.ToLower(fn.Name.Name)) {
				t.Errorf("%s: func %s copies what the kit provides (kit/ocispec, driver.ValidateID, kit/atomicfile, kit/monitor)", path, fn.Name.Name)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
