package driver

import (
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"

	driverv1 "github.com/rtd-project/rtd/api/driver/v1"
)

// RegisterServer registers d as the driver contract's gRPC service on s, for
// a driver served over a transport of its own (a VM's serial port, a unix
// socket of a per-container monitor) rather than through Serve. Errors keep
// their errdefs class exactly as with Serve. A nil logger discards panics'
// log lines.
func RegisterServer(s *grpc.Server, d Driver, logger hclog.Logger) {
	if logger == nil {
		logger = hclog.NewNullLogger()
	}
	driverv1.RegisterDriverServer(s, &server{impl: d, logger: logger})
}

// NewClient returns a Driver that speaks the contract over cc, a connection
// to a server set up with RegisterServer or Serve. Errors come back with
// their errdefs class; a broken connection is Unavailable, naming name. The
// caller owns cc and closes it; Close on the returned Client does not.
func NewClient(cc *grpc.ClientConn, name string) *Client {
	return &Client{
		name:       name,
		path:       cc.Target(),
		rpc:        driverv1.NewDriverClient(cc),
		logs:       newLogRing(logLines),
		maxErrLogs: 10,
	}
}
