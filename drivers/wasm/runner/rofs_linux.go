package runner

import (
	"io/fs"

	"github.com/tetratelabs/wazero"
	experimentalsys "github.com/tetratelabs/wazero/experimental/sys"
	"github.com/tetratelabs/wazero/experimental/sysfs"
)

// readOnlyFS is wazero's read-only directory with one change: opening a
// file for writing fails with EROFS, as on a read-only mount, where
// wazero says ENOSYS (which programs take for "not supported").
type readOnlyFS struct{ *sysfs.ReadFS }

// OpenFile implements experimentalsys.FS.
func (r readOnlyFS) OpenFile(path string, flag experimentalsys.Oflag, perm fs.FileMode) (experimentalsys.File, experimentalsys.Errno) {
	switch flag & (experimentalsys.O_RDONLY | experimentalsys.O_WRONLY | experimentalsys.O_RDWR) {
	case experimentalsys.O_WRONLY, experimentalsys.O_RDWR:
		if flag&experimentalsys.O_DIRECTORY != 0 {
			return nil, experimentalsys.EISDIR
		}
		return nil, experimentalsys.EROFS
	}
	return r.ReadFS.OpenFile(path, flag, perm)
}

// mountReadOnly adds host dir as a read-only Preopen at guest.
func mountReadOnly(c wazero.FSConfig, dir, guest string) wazero.FSConfig {
	return c.(sysfs.FSConfig).WithSysFSMount(readOnlyFS{&sysfs.ReadFS{FS: sysfs.DirFS(dir)}}, guest)
}
