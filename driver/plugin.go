package driver

import (
	"context"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// PluginName is the name of the driver plugin in the go-plugin PluginSet.
const PluginName = "driver"

// Handshake is the go-plugin handshake between rtd and a driver process. The
// protocol version is the contract version; the magic cookie only guards
// against running a driver binary by hand, it is not a security measure.
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  ContractVersion,
	MagicCookieKey:   "RTD_DRIVER_PLUGIN",
	MagicCookieValue: "7c1d5e0a9b3f46e2a8d4c6b1f0e93a57",
}

// grpcPlugin is the go-plugin glue for one side of the connection: impl is
// set in the driver process, nil in the host.
type grpcPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl Driver
}

var _ plugin.GRPCPlugin = (*grpcPlugin)(nil)

// GRPCServer registers the driver's gRPC service (driver process side); the
// server was made by Serve with the guard's interceptors.
func (p *grpcPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	driverv1.RegisterDriverServer(s, &server{impl: p.impl})
	return nil
}

// GRPCClient returns the raw gRPC client (host side); Launch wraps it.
func (p *grpcPlugin) GRPCClient(_ context.Context, _ *plugin.GRPCBroker, cc *grpc.ClientConn) (any, error) {
	return driverv1.NewDriverClient(cc), nil
}

func pluginSet(impl Driver) plugin.PluginSet {
	return plugin.PluginSet{PluginName: &grpcPlugin{impl: impl}}
}
