// Package wasmbin tells what kind of program a file in a root filesystem is
// (a WebAssembly core module, a WebAssembly component, an ELF executable, a
// #! script), the way runwasi decides whether a container is a WASM one: the
// core uses it to keep non-wasm workloads away from the wasm driver, and the
// wasm driver to refuse what it cannot run.
package wasmbin
