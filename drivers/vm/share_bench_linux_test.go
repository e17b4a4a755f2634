package vm_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/internal/testutil"
)

// BenchmarkBootMounts measures what a mount costs a container's life
// (Create to Delete of /bin/true), interleaving three specs on every
// iteration so that they share the machine's load: no mount, a read-write
// bind of a directory (a virtiofs share: virtiofsd, memfd-backed memory)
// and the same bind read-only (copied into an EROFS disk image). The
// directory holds 100 files of 10 KiB.
//
//	go test -run XXX -bench BootMounts -benchtime 5x ./drivers/vm/
func BenchmarkBootMounts(b *testing.B) {
	d, _ := launch(b)
	ctx := context.Background()
	rootfs := testutil.BusyboxRootfs(b)
	src := b.TempDir()
	for i := 0; i < 100; i++ {
		if err := os.WriteFile(filepath.Join(src, fmt.Sprint(i)), make([]byte, 10<<10), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	variants := []struct {
		name  string
		mount *specs.Mount
	}{
		{"none", nil},
		{"virtiofs", &specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind"}}},
		{"ro-image", &specs.Mount{Destination: "/data", Type: "bind", Source: src, Options: []string{"rbind", "ro"}}},
	}
	bundles := make([]string, len(variants))
	for i, v := range variants {
		spec := testutil.Spec(rootfs, "true")
		if v.mount != nil {
			spec.Mounts = append(spec.Mounts, *v.mount)
		}
		bundles[i] = testutil.Bundle(b, spec)
	}
	totals := make([][]time.Duration, len(variants))
	for n := 0; b.Loop(); n++ {
		for i := range variants {
			id := fmt.Sprintf("mb-%d-%d", n, i)
			t0 := time.Now()
			if _, err := d.Create(ctx, &driver.CreateRequest{ID: id, Bundle: bundles[i]}); err != nil {
				b.Fatal(err)
			}
			if err := d.Start(ctx, id); err != nil {
				b.Fatal(err)
			}
			if st, err := d.Wait(ctx, &driver.WaitRequest{ID: id}); err != nil || st.Code != 0 {
				b.Fatalf("wait: %+v %v", st, err)
			}
			if _, err := d.Delete(ctx, &driver.DeleteRequest{ID: id}); err != nil {
				b.Fatal(err)
			}
			totals[i] = append(totals[i], time.Since(t0))
		}
	}
	for i, v := range variants {
		b.ReportMetric(median(totals[i]), v.name+"-ms")
	}
}
