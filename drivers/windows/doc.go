// Package windows is the rtd driver for Windows containers, on the Host
// Compute Service (HCS) through github.com/Microsoft/hcsshim's public API.
//
// A container runs with process isolation (a Windows Server silo that shares
// the host kernel) or with Hyper-V isolation (a utility VM with its own
// kernel), chosen per container by the spec's windows.hyperv section and
// raised to Hyper-V for every container when the driver runs in "hyperv"
// mode.
//
// The translation from an OCI spec to the HCS container configuration
// (Translate, TranslateProcess) and the record store are portable and unit
// tested on every OS. The code that calls HCS is in the *_windows.go files:
// it compiles and vets with GOOS=windows but has not been run on a Windows
// host by rtd's developers (see docs/drivers/windows.md). On any other OS
// the driver answers Info with "not ready" and every other call with
// NotImplemented.
package windows
