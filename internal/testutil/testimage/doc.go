// Package testimage builds OCI images for rtd's tests from local material
// (the host's busybox-static, static Go programs, files given inline) with
// go-containerregistry, and serves them from a registry bound to
// 127.0.0.1 (go-containerregistry's pkg/registry, in process). The image
// tests, the containerd shim's tests and the runc-compatible front's tests
// share it; nothing is ever pulled from the internet.
//
//	host := testimage.Registry(t)                     // "127.0.0.1:PORT"
//	img := testimage.Image(t, testimage.Config{Cmd: []string{"sh"}}, testimage.Busybox(t))
//	digest := testimage.Push(t, host+"/busybox:1", img)
//	testimage.WriteDockerTar(t, "/tmp/x.tar", "hello-world:latest", img)
//	testimage.WriteOCIArchive(t, "/tmp/x.oci.tar", map[string]v1.Image{"docker.io/library/hello-world:latest": img})
//	testimage.WriteLayout(t, dir, img)
package testimage
