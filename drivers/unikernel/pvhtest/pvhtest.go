// Package pvhtest builds rtd's test unikernel, a real non-Linux guest: a
// freestanding PVH ELF (pvh.c.txt, compiled at test time with the host's gcc,
// never committed) that prints "rtd pvh unikernel: CMDLINE" on the serial
// console and exits QEMU through isa-debug-exit with the code given as
// "exit=N" on its command line ("spin" makes it loop until killed). Bundle
// packages it as a urunc image (base64 annotations).
package pvhtest

import (
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

//go:embed pvh.c.txt
var source []byte

// Build compiles the unikernel into dir and returns its path.
func Build(dir string) (string, error) {
	src := filepath.Join(dir, "pvh.c")
	obj := filepath.Join(dir, "pvh.o")
	elf := filepath.Join(dir, "pvh.elf")
	if err := os.WriteFile(src, source, 0o644); err != nil {
		return "", err
	}
	for _, c := range [][]string{
		{"gcc", "-m32", "-ffreestanding", "-fno-pic", "-fno-stack-protector", "-nostdlib", "-O2", "-c", src, "-o", obj},
		{"ld", "-m", "elf_i386", "-Ttext", "0x100000", "-e", "_start", "-o", elf, obj},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			return "", fmt.Errorf("%s: %v: %s", strings.Join(c, " "), err, out)
		}
	}
	return elf, nil
}

// Annotations are urunc's annotations for the unikernel at /unikernel/pvh.elf
// with the given guest command line.
func Annotations(cmdline string) map[string]string {
	enc := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	return map[string]string{
		"com.urunc.unikernel.unikernelType": enc("pvh"),
		"com.urunc.unikernel.hypervisor":    enc("qemu"),
		"com.urunc.unikernel.binary":        enc("/unikernel/pvh.elf"),
		"com.urunc.unikernel.cmdline":       enc(cmdline),
	}
}

// Bundle writes a bundle in dir whose rootfs holds the unikernel elf (from
// Build) at /unikernel/pvh.elf and whose config.json carries Annotations.
func Bundle(dir, elf, cmdline string) error {
	if err := os.MkdirAll(filepath.Join(dir, "rootfs", "unikernel"), 0o755); err != nil {
		return err
	}
	data, err := os.ReadFile(elf)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "rootfs", "unikernel", "pvh.elf"), data, 0o755); err != nil {
		return err
	}
	spec := map[string]any{
		"ociVersion":  "1.0.2",
		"process":     map[string]any{"args": []string{"/unikernel/pvh.elf"}, "cwd": "/"},
		"root":        map[string]any{"path": "rootfs"},
		"annotations": Annotations(cmdline),
	}
	out, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "config.json"), out, 0o644)
}
