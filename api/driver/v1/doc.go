// Package driverv1 is the generated Go code of the rtd driver wire contract
// (driver.proto, protobuf package rtd.driver.v1). Driver authors use the Go
// SDK in github.com/rtd-project/rtd/driver instead; regenerate with
// `make proto`.
package driverv1
