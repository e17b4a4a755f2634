//go:build linux

package network

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// markerDir holds one marker per network whose masquerading rule is in
// place. It is on /run (tmpfs): like the rule, it does not survive a reboot.
const markerDir = "/run/rtd-network"

// masqRule is the network's one masquerading rule in the nat table: what
// its containers send beyond the network leaves with the host's address.
// One rule per network, as docker has, rather than the bridge plugin's
// ipMasq, which adds a chain and three rules per container (six iptables
// runs on create and on remove).
func masqRule(cniName, subnet string) []string {
	return []string{"-t", "nat", "POSTROUTING", "-s", subnet, "!", "-d", subnet,
		"-m", "comment", "--comment", "rtd network " + cniName, "-j", "MASQUERADE"}
}

func iptables(op string, rule []string) error {
	args := append([]string{"-w", rule[0], rule[1], op}, rule[2:]...)
	out, err := exec.Command("iptables", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("iptables %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ensureMasquerade installs the network's masquerading rule once per boot:
// after the first time, a marker file says it is there and no iptables
// runs.
func ensureMasquerade(cniName, subnet string) error {
	marker := filepath.Join(markerDir, cniName)
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	if err := os.MkdirAll(markerDir, 0o700); err != nil {
		return err
	}
	lock, err := os.OpenFile(filepath.Join(markerDir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return err
	}
	if _, err := os.Stat(marker); err == nil {
		return nil
	}
	rule := masqRule(cniName, subnet)
	if iptables("-C", rule) != nil {
		if err := iptables("-A", rule); err != nil {
			return fmt.Errorf("network %s: masquerading: %w", cniName, err)
		}
	}
	return os.WriteFile(marker, []byte(subnet+"\n"), 0o600)
}

// removeMasquerade deletes the network's masquerading rule and marker.
func removeMasquerade(cniName, subnet string) error {
	rule := masqRule(cniName, subnet)
	for iptables("-C", rule) == nil {
		if err := iptables("-D", rule); err != nil {
			return fmt.Errorf("network %s: masquerading: %w", cniName, err)
		}
	}
	if err := os.Remove(filepath.Join(markerDir, cniName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
