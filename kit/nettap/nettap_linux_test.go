//go:build linux

package nettap

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// newNS makes a network namespace bind-mounted in the test's directory,
// removed at the end.
func newNS(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := NewNS(path); err != nil {
		t.Skipf("cannot make a network namespace here (needs root): %v", err)
	}
	t.Cleanup(func() {
		if err := RemoveNS(path); err != nil {
			t.Error(err)
		}
	})
	return path
}

// pair sets up what CNI would: eth0 in ctr with 10.250.7.2/24 and a
// default route, its veth peer in peer with 10.250.7.1/24.
func pair(t *testing.T, ctr, peer string) {
	t.Helper()
	peerNS, err := netns.GetFromPath(peer)
	if err != nil {
		t.Fatal(err)
	}
	defer peerNS.Close()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(inNS(ctr, func() error {
		if err := netlink.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "eth0"}, PeerName: "peer0"}); err != nil {
			return err
		}
		p, err := netlink.LinkByName("peer0")
		if err != nil {
			return err
		}
		if err := netlink.LinkSetNsFd(p, int(peerNS)); err != nil {
			return err
		}
		return configure("eth0", "10.250.7.2/24", "10.250.7.1")
	}))
	must(inNS(peer, func() error { return configure("peer0", "10.250.7.1/24", "") }))
}

func configure(name, cidr, gw string) error {
	l, err := netlink.LinkByName(name)
	if err != nil {
		return err
	}
	addr, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	if err := netlink.AddrAdd(l, addr); err != nil {
		return err
	}
	if err := netlink.LinkSetUp(l); err != nil {
		return err
	}
	if gw != "" {
		return netlink.RouteAdd(&netlink.Route{LinkIndex: l.Attrs().Index, Gw: net.ParseIP(gw)})
	}
	return nil
}

// arpRequest is a broadcast "who has target, tell ip (mac)" frame.
func arpRequest(mac net.HardwareAddr, ip, target net.IP) []byte {
	var b bytes.Buffer
	b.Write(bytes.Repeat([]byte{0xff}, 6))
	b.Write(mac)
	binary.Write(&b, binary.BigEndian, uint16(0x0806))
	binary.Write(&b, binary.BigEndian, []uint16{1, 0x0800})
	b.Write([]byte{6, 4})
	binary.Write(&b, binary.BigEndian, uint16(1))
	b.Write(mac)
	b.Write(ip.To4())
	b.Write(make([]byte, 6))
	b.Write(target.To4())
	return b.Bytes()
}

// TestConnectCarriesFramesBothWays plays the guest on the tap: an ARP
// request written into the tap leaves through eth0 (tap ingress -> eth0),
// and the peer's reply, arriving on eth0, comes out of the tap (eth0
// ingress -> tap). Everything stays inside two namespaces the test made.
func TestConnectCarriesFramesBothWays(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and taps")
	}
	ctr, peer := newNS(t, "ctr"), newNS(t, "peer")
	pair(t, ctr, peer)
	tap, err := Connect(ctr, "eth0", "tap0")
	if err != nil {
		t.Fatal(err)
	}
	defer tap.File.Close()
	c := tap.Config
	if len(c.Addrs) != 1 || c.Addrs[0].String() != "10.250.7.2/24" || !c.Gateway.Equal(net.ParseIP("10.250.7.1")) || len(c.MAC) != 6 || c.MTU == 0 {
		t.Errorf("config = %+v, want eth0's address 10.250.7.2/24, gateway 10.250.7.1, its MAC and MTU", c)
	}
	if _, err := tap.File.Write(arpRequest(c.MAC, c.Addrs[0].IP, c.Gateway)); err != nil {
		t.Fatalf("write to the tap: %v", err)
	}
	buf := make([]byte, 2048)
	deadline := time.Now().Add(10 * time.Second)
	_ = tap.File.SetReadDeadline(deadline)
	for {
		n, err := tap.File.Read(buf)
		if err != nil {
			t.Fatalf("no ARP reply from the peer came out of the tap: %v", err)
		}
		f := buf[:n]
		if n >= 42 && binary.BigEndian.Uint16(f[12:14]) == 0x0806 && binary.BigEndian.Uint16(f[20:22]) == 2 &&
			net.IP(f[28:32]).Equal(c.Gateway) && bytes.Equal(f[0:6], c.MAC) {
			break
		}
	}
	if err := Disconnect(ctr, "eth0", "tap0"); err != nil {
		t.Fatal(err)
	}
	assertUndone(t, ctr, "tap0", "eth0", "Disconnect")
}

// TestConnectMissingInterface: an interface that is not there fails, and
// leaves no tap.
func TestConnectMissingInterface(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and taps")
	}
	ctr := newNS(t, "ctr")
	if _, err := Connect(ctr, "eth9", "tap0"); err == nil {
		t.Fatal("connect to a missing interface succeeded")
	}
	if err := inNS(ctr, func() error {
		if _, err := netlink.LinkByName("tap0"); err == nil {
			return fmt.Errorf("tap0 left behind")
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestConnectAll: the namespace's interfaces (not loopback) are listed with
// their configuration, each gets a tap, and Close leaves neither a tap nor
// an ingress qdisc.
func TestConnectAll(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces and taps")
	}
	ctr, peer := newNS(t, "ctr"), newNS(t, "peer")
	pair(t, ctr, peer)
	links, err := Links(ctr)
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].Name != "eth0" || links[0].Config.Addrs[0].String() != "10.250.7.2/24" {
		t.Fatalf("links = %+v, want eth0 with 10.250.7.2/24", links)
	}
	taps, err := ConnectAll(ctr, "vmtap")
	if err != nil {
		t.Fatal(err)
	}
	if len(taps) != 1 || taps[0].Name != "vmtap0" || taps[0].Interface != "eth0" || taps[0].Config.MAC.String() != links[0].Config.MAC.String() {
		t.Fatalf("taps = %+v, want vmtap0 on eth0 with eth0's MAC", taps)
	}
	// The tap is no interface a VM takes over.
	if names, err := Interfaces(ctr); err != nil || len(names) != 1 {
		t.Errorf("interfaces with a tap = %v, %v; want [eth0]", names, err)
	}
	Close(ctr, taps)
	assertUndone(t, ctr, "vmtap0", "eth0", "Close")
}

// assertUndone fails t unless namespace ns has no tap and iface no ingress
// qdisc left after op.
func assertUndone(t *testing.T, ns, tap, iface, op string) {
	t.Helper()
	err := inNS(ns, func() error {
		if _, err := netlink.LinkByName(tap); err == nil {
			return fmt.Errorf("%s is still there after %s", tap, op)
		}
		l, err := netlink.LinkByName(iface)
		if err != nil {
			return err
		}
		qs, err := netlink.QdiscList(l)
		if err != nil {
			return err
		}
		for _, q := range qs {
			if q.Type() == "ingress" {
				return fmt.Errorf("%s still has its ingress qdisc after %s", iface, op)
			}
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}
