package main

import (
	"github.com/spf13/pflag"

	"github.com/rtd-project/rtd/core"
)

// registerMounts adds -v, --mount and --tmpfs (docker's syntax).
func (f *containerFlags) registerMounts(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.volumes, "volume", "v", nil, "bind a host path or a volume: HOST-PATH:TARGET[:ro], VOLUME:TARGET[:ro], or TARGET (an anonymous volume); a missing host path is created")
	fs.StringArrayVar(&f.mounts, "mount", nil, "a mount: type=bind|volume|tmpfs,source=SRC,target=DST[,readonly][,bind-propagation=P][,tmpfs-size=N][,tmpfs-mode=M]")
	fs.StringArrayVar(&f.tmpfs, "tmpfs", nil, "mount a tmpfs: TARGET[:OPTIONS] (size=64m, mode=1777, exec, ro)")
}

// parseMounts parses the mount flags, in the order -v, --mount, --tmpfs.
func (f *containerFlags) parseMounts() ([]core.Mount, error) {
	var out []core.Mount
	for _, p := range []struct {
		values []string
		parse  func(string) (core.Mount, error)
	}{
		{f.volumes, core.ParseVolumeFlag},
		{f.mounts, core.ParseMountFlag},
		{f.tmpfs, core.ParseTmpfsFlag},
	} {
		for _, v := range p.values {
			m, err := p.parse(v)
			if err != nil {
				return nil, err
			}
			out = append(out, m)
		}
	}
	return out, nil
}
