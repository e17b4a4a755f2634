// Package drivertest helps a driver author test a driver:
//
//   - New serves a Driver value in the test process over a real gRPC
//     connection (a unix socket) with the SDK's interceptors, as Serve does
//     in a driver process, and returns the client the core would use
//     (Nomad's NewDriverHarness, for rtd): errors keep their class,
//     unclaimed optional methods answer NotImplemented, panics answer
//     Internal. No binary, no go-plugin handshake: fast unit tests.
//   - Placeholder checks a driver's placeholder for the OSes it cannot run
//     on (driver.NewUnsupported): not ready with the reason, an isolation
//     descriptor that passes INFO-003, and NotImplemented from every other
//     method of the contract.
//   - Build compiles a package (a driver's main, a probe) into a binary
//     once per test binary, for tests that launch drivers the way the core
//     does (driver.Launch, conformance.Run).
//
// It imports only the SDK and the standard library's testing support.
package drivertest
