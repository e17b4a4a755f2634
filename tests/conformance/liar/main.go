// Command liar is a deliberately broken driver for the conformance suite's
// own tests: it is the linux driver, but it streams none of the events it claims and
// a pause that does nothing. The suite must fail it.
package main

import (
	"context"

	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/drivers/linux"
)

type liar struct{ *linux.Driver }

// Info claims capabilities the driver does not have.
func (l liar) Info(ctx context.Context) (*driver.Info, error) {
	info, err := l.Driver.Info(ctx)
	if err != nil {
		return nil, err
	}
	info.Name = "liar"
	info.Capabilities.Events = true
	return info, nil
}

// Events pretends to stream events: it sends none.
func (l liar) Events(ctx context.Context, _ func(*driver.Event) error) error {
	<-ctx.Done()
	return ctx.Err()
}

// EventsFrom pretends to replay events: it sends none.
func (l liar) EventsFrom(ctx context.Context, _ *driver.EventsRequest, _ func(*driver.Event) error) error {
	<-ctx.Done()
	return ctx.Err()
}

// Pause pretends to pause.
func (l liar) Pause(context.Context, string) error { return nil }

// Resume pretends to resume.
func (l liar) Resume(context.Context, string) error { return nil }

func main() {
	linux.Reexec()
	logger := driver.NewLogger("liar")
	driver.Serve(liar{linux.New(linux.Options{StateDir: driver.StateDir(), Logger: logger})}, logger)
}
