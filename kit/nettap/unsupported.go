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
	Routes  []Route
}

// Route is a route to Dst through Gw.
type Route struct {
	Dst *net.IPNet
	Gw  net.IP
}

// Tap is a tap device connected to a namespace's interface.
type Tap struct {
	Interface string
	Name      string
	Index     int
	File      *os.File
	Config    Config
}

var errNotLinux = errors.New("nettap: network namespaces and taps are Linux's")

// Connect fails: taps in network namespaces are Linux's.
func Connect(string, string, string) (*Tap, error) { return nil, errNotLinux }

// Disconnect has nothing to remove.
func Disconnect(string, string, string) error { return nil }

// Interfaces finds none: network namespaces are Linux's.
func Interfaces(string) ([]string, error) { return nil, errNotLinux }

// ConnectAll fails: taps in network namespaces are Linux's.
func ConnectAll(string, string) ([]*Tap, error) { return nil, errNotLinux }

// Close has nothing to close.
func Close(string, []*Tap) {}

// Link is one of a namespace's Interfaces with its configuration.
type Link struct {
	Name   string
	Config Config
}

// Links finds none: network namespaces are Linux's.
func Links(string) ([]Link, error) { return nil, errNotLinux }

// NewNS fails: network namespaces are Linux's.
func NewNS(string) error { return errNotLinux }

// RemoveNS has nothing to remove.
func RemoveNS(string) error { return nil }

// InNS fails: network namespaces are Linux's.
func InNS(string, func() error) error { return errNotLinux }
