package windows

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestMirrorMatchesSchema1 checks, on any OS, that every field of the
// portable mirror types exists in hcsshim's schema1 source with the same
// type and JSON tag, so the configuration marshalled to HCS is the one the
// tests check. (On Windows, toHCS additionally makes the compiler check it.)
func TestMirrorMatchesSchema1(t *testing.T) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/Microsoft/hcsshim").Output()
	if err != nil {
		t.Fatalf("go list hcsshim: %v", err)
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		t.Fatal("hcsshim module not downloaded: run go mod download github.com/Microsoft/hcsshim")
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(dir, "internal", "hcs", "schema1", "schema1.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	type field struct{ typ, tag string }
	upstream := map[string]map[string]field{}
	ast.Inspect(f, func(n ast.Node) bool {
		ts, ok := n.(*ast.TypeSpec)
		if !ok {
			return true
		}
		st, ok := ts.Type.(*ast.StructType)
		if !ok {
			return false
		}
		fields := map[string]field{}
		for _, fl := range st.Fields.List {
			var b bytes.Buffer
			_ = printer.Fprint(&b, fset, fl.Type)
			tag := ""
			if fl.Tag != nil {
				tag = strings.Trim(fl.Tag.Value, "`")
			}
			for _, name := range fl.Names {
				fields[name.Name] = field{typ: b.String(), tag: tag}
			}
		}
		upstream[ts.Name.Name] = fields
		return false
	})
	for _, v := range []any{ContainerConfig{}, ProcessConfig{}, Layer{}, MappedDir{}, MappedPipe{}, HvRuntime{}, AssignedDevice{}} {
		rt := reflect.TypeOf(v)
		up, ok := upstream[rt.Name()]
		if !ok {
			t.Errorf("schema1 has no type %s", rt.Name())
			continue
		}
		for i := 0; i < rt.NumField(); i++ {
			sf := rt.Field(i)
			u, ok := up[sf.Name]
			if !ok {
				t.Errorf("%s.%s: not in schema1", rt.Name(), sf.Name)
				continue
			}
			// Mirror types carry the same names as schema1's.
			typ := strings.ReplaceAll(sf.Type.String(), "windows.", "")
			if typ != u.typ {
				t.Errorf("%s.%s: type %s, schema1 has %s", rt.Name(), sf.Name, typ, u.typ)
			}
			if sf.Tag.Get("json") != reflect.StructTag(u.tag).Get("json") {
				t.Errorf("%s.%s: json tag %q, schema1 has %q", rt.Name(), sf.Name, sf.Tag.Get("json"), reflect.StructTag(u.tag).Get("json"))
			}
		}
	}
}
