//go:build !linux

package nettap

import (
	"errors"
	"net"
	"os"
)

// Config is what the guest needs to configure its interface.
type Config struct {
	MAC     net.HardwareAddr
	MTU     int
	Addrs   []*net.IPNet
	Gateway net.IP
}

// Tap is a tap device connected to a namespace's interface.
type Tap struct {
	Name   string
	Index  int
	File   *os.File
	Config Config
}

var errNotLinux = errors.New("nettap: network namespaces and taps are Linux's")

// Connect fails: taps in network namespaces are Linux's.
func Connect(string, string, string) (*Tap, error) { return nil, errNotLinux }

// Disconnect has nothing to remove.
func Disconnect(string, string, string) error { return nil }
