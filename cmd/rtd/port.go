package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/rtd-project/rtd/core/network"
	"github.com/rtd-project/rtd/driver"
)

func newPortCommand(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "port CONTAINER [PRIVATE_PORT[/PROTO]]",
		Short: "List a container's published ports, or the host address of one",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				return nil
			}
			return argsExactly(1, "CONTAINER [PRIVATE_PORT[/PROTO]]")(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.Core()
			if err != nil {
				return err
			}
			rec, err := c.Lookup(args[0])
			if err != nil {
				return err
			}
			var ports []network.Port
			if rec.Network != nil {
				ports = rec.Network.Ports
			}
			w := cmd.OutOrStdout()
			if len(args) == 1 {
				for _, p := range ports {
					fmt.Fprintf(w, "%d/%s -> %s\n", p.ContainerPort, p.Protocol, hostAddr(p))
				}
				return nil
			}
			num, proto, _ := strings.Cut(args[1], "/")
			if proto == "" {
				proto = "tcp"
			}
			n, err := strconv.Atoi(num)
			if err != nil || n < 1 || n > 65535 || (proto != "tcp" && proto != "udp") {
				return usageError(fmt.Errorf("invalid port %q: want PRIVATE_PORT[/tcp|/udp]", args[1]))
			}
			found := false
			for _, p := range ports {
				if p.ContainerPort == n && p.Protocol == proto {
					fmt.Fprintln(w, hostAddr(p))
					found = true
				}
			}
			if !found {
				return driver.NotFoundf("no public port '%d/%s' published for %s", n, proto, args[0])
			}
			return nil
		},
	}
}

// hostAddr is a published port's host address as docker prints it
// (0.0.0.0 for every address).
func hostAddr(p network.Port) string {
	ip := p.HostIP
	if ip == "" {
		ip = "0.0.0.0"
	}
	return net.JoinHostPort(ip, strconv.Itoa(p.HostPort))
}

// portsColumn is ps's PORTS: each published port as docker shows it,
// 0.0.0.0:8080->80/tcp.
func portsColumn(ports []network.Port) string {
	var s []string
	for _, p := range ports {
		s = append(s, fmt.Sprintf("%s->%d/%s", hostAddr(p), p.ContainerPort, p.Protocol))
	}
	return strings.Join(s, ", ")
}
