package vmm

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// File is one entry of an initramfs.
type File struct {
	Name      string
	Mode      uint32 // type and permission bits, as in stat(2)
	Data      []byte
	RdevMajor uint32
	RdevMinor uint32
	HostPath  string // read the data from this file when set
}

// File types of File.Mode.
const (
	ModeDir  = 0o040000
	ModeReg  = 0o100000
	ModeChar = 0o020000
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
	if mode&0o170000 == ModeDir {
		nlink = 2
	}
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, major, minor, len(name)+1, 0)
	if err := c.write([]byte(hdr + name + "\x00")); err != nil {
		return err
	}
	return c.pad()
}

// WriteCpio writes files (parents before children) and the trailer.
func WriteCpio(w io.Writer, files []File) error {
	c := &cpioWriter{w: bufio.NewWriterSize(w, 1<<20)}
	for _, f := range files {
		data := f.Data
		if f.HostPath != "" {
			var err error
			if data, err = os.ReadFile(f.HostPath); err != nil {
				return err
			}
		}
		if err := c.entry(f.Name, f.Mode, len(data), f.RdevMajor, f.RdevMinor); err != nil {
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

// Initramfs returns the path of an initramfs holding files, building it
// under dir unless an image with the same content hash is there already;
// images nobody booted for a while are pruned.
func Initramfs(dir string, files []File) (string, error) {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s %o %d %d\n", f.Name, f.Mode, f.RdevMajor, f.RdevMinor)
		h.Write(f.Data)
		if f.HostPath != "" {
			in, err := os.Open(f.HostPath)
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
	if err := WriteCpio(tmp, files); err != nil {
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
