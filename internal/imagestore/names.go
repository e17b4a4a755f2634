package imagestore

import (
	"os"
	"runtime"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// MirrorsEnv names the environment variable that sends pulls for a
// registry to another one: "docker.io=127.0.0.1:5000,quay.io=mirror:443".
// A short name such as busybox means docker.io/library/busybox.
const MirrorsEnv = "RTD_REGISTRY_MIRRORS"

// dockerHub is what go-containerregistry calls Docker Hub internally.
const dockerHub = "index.docker.io"

// Normalize returns the canonical name of an image reference:
// "busybox" → "docker.io/library/busybox:latest".
func Normalize(ref string) (string, error) {
	r, err := parse(ref)
	if err != nil {
		return "", err
	}
	return canonical(r), nil
}

func parse(ref string) (name.Reference, error) {
	if ref == "" || strings.HasPrefix(ref, "/") || strings.HasPrefix(ref, ".") {
		return nil, classed(errdefs.ErrInvalidArgument, "image reference %q: want NAME[:TAG] or NAME@sha256:DIGEST", ref)
	}
	r, err := name.ParseReference(ref)
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "image reference %q: %v", ref, err)
	}
	return r, nil
}

func canonical(r name.Reference) string {
	reg := r.Context().RegistryStr()
	if reg == dockerHub {
		reg = "docker.io"
	}
	repo := reg + "/" + r.Context().RepositoryStr()
	switch t := r.(type) {
	case name.Digest:
		return repo + "@" + t.DigestStr()
	case name.Tag:
		return repo + ":" + t.TagStr()
	}
	return repo
}

// Mirrors maps a registry ("docker.io") to the host[:port] pulls of it go to.
type Mirrors map[string]string

// MirrorsFromEnv reads MirrorsEnv.
func MirrorsFromEnv() (Mirrors, error) {
	m := Mirrors{}
	for _, kv := range strings.FieldsFunc(os.Getenv(MirrorsEnv), func(r rune) bool { return r == ',' || r == ' ' }) {
		from, to, ok := strings.Cut(kv, "=")
		if !ok || from == "" || to == "" {
			return nil, classed(errdefs.ErrInvalidArgument, "%s: %q: want REGISTRY=HOST[:PORT]", MirrorsEnv, kv)
		}
		m[from] = strings.TrimPrefix(strings.TrimPrefix(to, "http://"), "https://")
	}
	return m, nil
}

// rewrite returns the reference to fetch r from: r itself, or the same
// repository and tag on r's registry's mirror.
func (m Mirrors) rewrite(r name.Reference) (name.Reference, error) {
	reg := r.Context().RegistryStr()
	if reg == dockerHub {
		reg = "docker.io"
	}
	to, ok := m[reg]
	if !ok {
		return r, nil
	}
	repo := to + "/" + r.Context().RepositoryStr()
	var out name.Reference
	var err error
	switch t := r.(type) {
	case name.Digest:
		out, err = name.NewDigest(repo + "@" + t.DigestStr())
	default:
		out, err = name.NewTag(repo + ":" + r.Identifier())
	}
	if err != nil {
		return nil, classed(errdefs.ErrInvalidArgument, "mirror %s for %s: %v", to, reg, err)
	}
	return out, nil
}

// Platform is the platform an image is chosen for.
type Platform = v1.Platform

// DefaultPlatform is linux on the host's architecture.
func DefaultPlatform() Platform { return Platform{OS: "linux", Architecture: runtime.GOARCH} }

// ParsePlatform parses os/arch[/variant].
func ParsePlatform(s string) (Platform, error) {
	p, err := v1.ParsePlatform(s)
	if err != nil || p.OS == "" || p.Architecture == "" {
		return Platform{}, classed(errdefs.ErrInvalidArgument, "platform %q: want OS/ARCH[/VARIANT], e.g. linux/amd64", s)
	}
	return *p, nil
}

// IsWasm reports whether a platform is WebAssembly's (wasi/wasm, wasip1/wasm).
func IsWasm(p Platform) bool {
	return p.Architecture == "wasm" || strings.HasPrefix(p.OS, "wasi")
}

// fits reports whether an image of platform got runs where want is asked
// for: same os and architecture (and variant when both say one); a
// WebAssembly image runs anywhere (the wasm driver runs it).
func fits(got, want Platform) bool {
	if IsWasm(got) {
		return true
	}
	if got.OS != want.OS || got.Architecture != want.Architecture {
		return false
	}
	return got.Variant == "" || want.Variant == "" || got.Variant == want.Variant
}

func platformString(p Platform) string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

// wrongPlatform is the error for an image that does not run here.
func wrongPlatform(ref string, have []string, want Platform) error {
	return classed(errdefs.ErrFailedPrecondition, "image %q is for %s, not %s: pull an image built for %s (or name another with --platform)",
		ref, strings.Join(have, ", "), platformString(want), platformString(want))
}
