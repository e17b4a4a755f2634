// Package imagestore is rtd's image store: a digest-addressed content store
// in the OCI image layout (go-containerregistry's layout package reads it),
// the images' names in its index.json, and one unpacked root filesystem
// ("snapshot") per image, keyed by the chain id of its layers.
//
// Images come from registries (Pull, through go-containerregistry's remote
// package), from docker-save tars and OCI archives (Load) and from OCI
// layout directories (ImportLayout). Every blob is verified against its
// digest while it is written and renamed into place only when it matches,
// so a failed or interrupted transfer leaves nothing behind. Layers are
// applied with containerd's pkg/archive, which handles whiteouts and
// opaque directories as docker does.
package imagestore
