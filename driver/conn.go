package driver

import (
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// NewGRPCServer returns a gRPC server serving d as the driver contract with
// the SDK's interceptors, as Serve does: errors keep their errdefs class, a
// panic in d answers Internal naming the method, and an optional method
// whose capability d's Info does not claim answers NotImplemented. Use it to
// serve a driver over a transport of your own (a unix socket, a VM's serial
// port), or in tests (package drivertest). A nil logger discards panics' log
// lines.
func NewGRPCServer(d Driver, logger hclog.Logger, opts ...grpc.ServerOption) *grpc.Server {
	g := &guard{impl: d, logger: orNull(logger), gated: true}
	s := grpc.NewServer(append(g.serverOptions(), opts...)...)
	driverv1.RegisterDriverServer(s, &server{impl: d})
	return s
}

// NewRelayServer is NewGRPCServer without capability gating, for a
// driver's internal hops (a per-container monitor, a guest agent) that
// relay calls and whose own Info does not speak for the driver: the driver
// in front of them has gated the call already.
func NewRelayServer(d Driver, logger hclog.Logger, opts ...grpc.ServerOption) *grpc.Server {
	g := &guard{impl: d, logger: orNull(logger)}
	s := grpc.NewServer(append(g.serverOptions(), opts...)...)
	driverv1.RegisterDriverServer(s, &server{impl: d})
	return s
}

func orNull(l hclog.Logger) hclog.Logger {
	if l == nil {
		return hclog.NewNullLogger()
	}
	return l
}

// NewClient returns a Client that speaks the contract over cc, a
// connection to a server set up with NewGRPCServer, NewRelayServer or Serve.
// Errors come back with their errdefs class; a broken connection is
// Unavailable, naming name. The caller owns cc and closes it.
func NewClient(cc *grpc.ClientConn, name string) *Client {
	return &Client{
		name:       name,
		target:     cc.Target(),
		rpc:        driverv1.NewDriverClient(cc),
		maxErrLogs: 10,
	}
}
