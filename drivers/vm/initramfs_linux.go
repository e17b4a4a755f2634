package vm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// cpioFile is one entry of an initramfs.
type cpioFile struct {
	name         string
	mode         uint32 // type and permission bits, as in stat(2)
	data         []byte
	rdevMajor    uint32
	rdevMinor    uint32
	hostPathData string // read the data from this file when set
}

const (
	modeDir  = 0o040000
	modeReg  = 0o100000
	modeChar = 0o020000
)

// cpioWriter writes the "newc" format the kernel unpacks into its rootfs.
type cpioWriter struct {
	w   *bufio.Writer
	n   int64
	ino uint32
}

func (c *cpioWriter) write(p []byte) error {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return err
}

func (c *cpioWriter) pad() error {
	if r := c.n % 4; r != 0 {
		return c.write(make([]byte, 4-r))
	}
	return nil
}

func (c *cpioWriter) entry(name string, mode uint32, size int, major, minor uint32) error {
	c.ino++
	nlink := 1
	if mode&0o170000 == modeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0)
	if err := c.write([]byte(hdr + name + "\x00")); err != nil {
		return err
	}
	return c.pad()
}

// writeCpio writes files (parents before children) and the trailer.
func writeCpio(w io.Writer, files []cpioFile) error {
	c := &cpioWriter{w: bufio.NewWriterSize(w, 1<<20)}
	for _, f := range files {
		data := f.data
		if f.hostPathData != "" {
			var err error
			if data, err = os.ReadFile(f.hostPathData); err != nil {
				return err
			}
		}
		if err := c.entry(f.name, f.mode, len(data), f.rdevMajor, f.rdevMinor); err != nil {
			return err
		}
		if len(data) > 0 {
			if err := c.write(data); err != nil {
				return err
			}
			if err := c.pad(); err != nil {
				return err
			}
		}
	}
	if err := c.entry("TRAILER!!!", 0, 0, 0, 0); err != nil {
		return err
	}
	return c.w.Flush()
}

// initramfsFiles lists the guest's initramfs: the agent as /init, the
// device nodes a Go program needs before devtmpfs is mounted, the modules
// and their load order.
func initramfsFiles(agent string, k *kernel) []cpioFile {
	files := []cpioFile{
		{name: "dev", mode: modeDir | 0o755},
		{name: "dev/console", mode: modeChar | 0o600, rdevMajor: 5, rdevMinor: 1},
		{name: "dev/null", mode: modeChar | 0o666, rdevMajor: 1, rdevMinor: 3},
	}
	for _, d := range []string{"proc", "sys", "run", "tmp", "newroot", "lib", "lib/modules"} {
		files = append(files, cpioFile{name: d, mode: modeDir | 0o755})
	}
	files = append(files, cpioFile{name: "init", mode: modeReg | 0o755, hostPathData: agent})
	for _, m := range k.modules {
		files = append(files, cpioFile{name: "lib/modules/" + m, mode: modeReg | 0o644, hostPathData: filepath.Join(k.dir, "modules", m)})
	}
	order := strings.Join(k.modules, "\n") + "\n"
	files = append(files, cpioFile{name: "lib/modules/modules.order", mode: modeReg | 0o644, data: []byte(order)})
	return files
}

// initramfs returns the path of the initramfs for agent and kernel k,
// building it under dir unless an image with the same content hash (agent
// and modules) is there already.
func initramfs(dir, agent string, k *kernel) (string, error) {
	h := sha256.New()
	files := initramfsFiles(agent, k)
	for _, f := range files {
		fmt.Fprintf(h, "%s %o %d %d\n", f.name, f.mode, f.rdevMajor, f.rdevMinor)
		h.Write(f.data)
		if f.hostPathData != "" {
			in, err := os.Open(f.hostPathData)
			if err != nil {
				return "", err
			}
			_, err = io.Copy(h, in)
			in.Close()
			if err != nil {
				return "", err
			}
		}
	}
	path := filepath.Join(dir, hex.EncodeToString(h.Sum(nil)[:12])+".cpio")
	now := time.Now()
	if err := os.Chtimes(path, now, now); err == nil {
		return path, nil // cached; the new mtime keeps it from being pruned
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".initramfs-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if err := writeCpio(tmp, files); err != nil {
		tmp.Close()
		return "", fmt.Errorf("write initramfs: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	pruneInitramfs(dir, path, now.Add(-initramfsKeep))
	return path, nil
}

// initramfsKeep is how long an initramfs nobody booted stays cached (one a
// VM is booting with is younger: every use refreshes its mtime).
const initramfsKeep = 10 * time.Minute

// pruneInitramfs removes the images of older agents or kernels.
func pruneInitramfs(dir, keep string, before time.Time) {
	old, _ := filepath.Glob(filepath.Join(dir, "*.cpio"))
	for _, p := range old {
		if fi, err := os.Stat(p); err == nil && p != keep && fi.ModTime().Before(before) {
			os.Remove(p)
		}
	}
}
