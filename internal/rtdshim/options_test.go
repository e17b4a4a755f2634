package rtdshim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	runtimeoptions "github.com/containerd/containerd/api/types/runtimeoptions/v1"
	"github.com/containerd/errdefs"
	"github.com/containerd/typeurl/v2"
)

func TestOptionsFromAny(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "gvisor.toml")
	if err := os.WriteFile(good, []byte("driver = \"gvisor\"\nisolation = \"sandbox\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name    string
		opts    any
		driver  string
		wantErr string
	}{
		{"none", nil, "", ""},
		{"handler body (CRI)", &runtimeoptions.Options{ConfigBody: []byte(`driver = "vm"`)}, "vm", ""},
		{"config path (ctr --runtime-config-path)", &runtimeoptions.Options{ConfigPath: good}, "gvisor", ""},
		{"runc's options are not ours", &runcoptions.Options{BinaryName: "runc"}, "", ""},
		{"malformed", &runtimeoptions.Options{ConfigBody: []byte(`driver = `)}, "", "malformed TOML"},
		{"unknown key", &runtimeoptions.Options{ConfigBody: []byte(`drvier = "linux"`)}, "", "unknown keys drvier"},
		{"bad isolation", &runtimeoptions.Options{ConfigBody: []byte(`isolation = "strong"`)}, "", "isolation"},
		{"missing file", &runtimeoptions.Options{ConfigPath: filepath.Join(dir, "nope.toml")}, "", "read config_path"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var o *Options
			var err error
			if c.opts == nil {
				o, err = OptionsFromAny(nil)
			} else {
				a, merr := typeurl.MarshalAnyToProto(c.opts)
				if merr != nil {
					t.Fatal(merr)
				}
				o, err = OptionsFromAny(a)
			}
			if c.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErr) || !errdefs.IsInvalidArgument(err) {
					t.Fatalf("want an InvalidArgument error saying %q, got %v", c.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if o.Driver != c.driver {
				t.Fatalf("driver %q, want %q", o.Driver, c.driver)
			}
		})
	}
}
