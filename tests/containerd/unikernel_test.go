//go:build linux

package containerd

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/rtd-project/rtd/drivers/unikernel/pvhtest"
	"github.com/rtd-project/rtd/internal/testutil"
	"github.com/rtd-project/rtd/internal/testutil/testimage"
)

// unikernelImage is rtd's test unikernel (drivers/unikernel/pvhtest) as
// urunc packages one: the ELF and /urunc.json (urunc's annotations,
// base64 values), which is what urunc reads when ctr passes none.
const unikernelImage = "docker.io/rtd/pvh-unikernel:test"

// TestCtrRunUnikernel: `ctr run --runtime io.containerd.rtd.v2` with the
// unikernel driver boots the PVH test unikernel, unchanged urunc image
// format, and gives back its console output and its exit code (from
// isa-debug-exit); urunc's annotations given to ctr take precedence over
// /urunc.json, as in urunc.
func TestCtrRunUnikernel(t *testing.T) {
	need(t)
	for _, tool := range []string{"qemu-system-x86_64", "gcc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make deps)", tool)
		}
	}
	if err := testutil.BuildBinaries(binDir, testutil.Binary{Name: "rtd-driver-unikernel", Pkg: "./cmd/rtd-driver-unikernel"}); err != nil {
		t.Fatal(err)
	}
	d := startContainerd(t)
	archive := unikernelArchive(t)
	ok(t, d.ctr("images", "import", archive))
	flags := d.runtimeFlags("unikernel")

	id := uid("uk-json")
	r := d.ctr(append(append([]string{"run", "--rm"}, flags...), unikernelImage, id)...)
	if r.code != 7 || r.stdout != "rtd pvh unikernel: from urunc.json exit=7\n" {
		t.Errorf("urunc.json image: want its output and exit 7: %s", r)
	}
	assertNoShimState(t, id)

	id = uid("uk-annot")
	args := append([]string{"run", "--rm"}, flags...)
	for k, v := range pvhtest.Annotations("from annotations exit=3") {
		args = append(args, "--annotation", k+"="+v)
	}
	r = d.ctr(append(args, unikernelImage, id)...)
	if r.code != 3 || r.stdout != "rtd pvh unikernel: from annotations exit=3\n" {
		t.Errorf("annotations: want their cmdline and exit 3: %s", r)
	}
	assertNoShimState(t, id)

	// An ordinary image is refused by the handler, naming the cause.
	ok(t, d.ctr("images", "import", buildImages(t)))
	id = uid("uk-plain")
	r = d.ctr(append(append([]string{"run", "--rm"}, flags...), busyboxImage, id, "true")...)
	if r.code == 0 || !strings.Contains(r.stderr, "declare a unikernel") {
		t.Errorf("ordinary image on the unikernel handler: want a refusal: %s", r)
	}
	d.ctr("containers", "rm", id)
	assertNoShimState(t, id)
}

// unikernelArchive builds the PVH unikernel and writes the image as an
// OCI archive.
func unikernelArchive(t *testing.T) string {
	t.Helper()
	elf, err := pvhtest.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(elf)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := json.Marshal(pvhtest.Annotations("from urunc.json exit=7"))
	if err != nil {
		t.Fatal(err)
	}
	layer := testimage.Layer(t,
		testimage.File{Name: "unikernel/pvh.elf", Body: string(body), Mode: 0o755},
		testimage.File{Name: "urunc.json", Body: string(cfg), Mode: 0o644})
	// The manifest carries the annotations too, as urunc's images do;
	// ctr does not pass them on.
	img := testimage.Image(t, testimage.Config{Cmd: []string{"/unikernel/pvh.elf"}, Annotations: pvhtest.Annotations("from urunc.json exit=7")}, layer)
	out := filepath.Join(t.TempDir(), "unikernel.tar")
	testimage.WriteOCIArchive(t, out, map[string]v1.Image{unikernelImage: img})
	return out
}
