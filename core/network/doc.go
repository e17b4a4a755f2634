// Package network gives containers their network the way docker users
// expect, through CNI (libcni and the standard plugins: bridge, host-local,
// portmap): named networks (the builtin "bridge" and user networks made by
// `rtd network create`), a network namespace per container created by the
// core and handed to drivers as the spec's network namespace path, published
// ports, and the /etc/hosts, /etc/resolv.conf and /etc/hostname files of a
// container. Everything it sets up is undone by Detach, which is idempotent
// and works from the state file alone, so crashed and half-done creations
// are cleaned as well.
package network
