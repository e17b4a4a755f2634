// Command elfpack writes a copy of a vmlinux without the padding the
// kernel's linker script puts between its sections (x86_64 aligns text,
// entry text, rodata and data to 2 MB for large-page mappings: about 7 MB
// of zeros and int3 fill in a small kernel) and without its section
// headers, so the file QEMU loads (PVH, -kernel vmlinux) holds only what
// the guest's memory gets. hack/guest-kernel.sh runs it on the kernel it
// caches.
//
//	go run ./hack/guest-kernel/elfpack IN OUT
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: elfpack IN OUT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "elfpack:", err)
		os.Exit(1)
	}
}

func run(in, out string) error {
	data, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	n, err := Pack(data, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("pack %s: %w", in, err)
	}
	fmt.Printf("%s: %.1f MB -> %.1f MB\n", out, float64(len(data))/1e6, float64(n)/1e6)
	return nil
}
