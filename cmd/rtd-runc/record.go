//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/containerd/errdefs"
	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/core"
	"github.com/rtd-project/rtd/driver"
	"github.com/rtd-project/rtd/kit/statestore"
)

// record is what rtd-runc keeps per container, next to the driver's own
// state: which driver runs it, and what runc's state reports.
type record struct {
	ID          string            `json:"id"`
	Driver      string            `json:"driver"`
	DriverPath  string            `json:"driverPath"`
	Bundle      string            `json:"bundle"`
	Rootfs      string            `json:"rootfs"`
	Created     time.Time         `json:"created"`
	Owner       string            `json:"owner"`
	Annotations map[string]string `json:"annotations,omitempty"`
	// StandinPid is the pid written to --pid-file: the process that exits
	// with the container's status.
	StandinPid int `json:"standinPid"`
}

// session is one command's view of the state root: the record store and
// the core that launches drivers.
type session struct {
	a     *app
	store statestore.Store
	core  *core.Core
}

func (a *app) open() (*session, error) {
	root, err := filepath.Abs(a.root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("state root %s: %w", root, err)
	}
	level := hclog.Warn
	if a.debug {
		level = hclog.Debug
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "rtd-runc", Level: level, Output: os.Stderr})
	c := core.New(core.Options{Root: root, Logger: logger})
	return &session{a: a, store: statestore.Store{Root: root}, core: c}, nil
}

func (s *session) close() { s.core.Close() }

// load returns the record of id; an unknown id is NotFound worded as runc's
// "container does not exist".
func (s *session) load(id string) (*record, error) {
	var rec record
	if err := s.store.Load("load", id, &rec); err != nil {
		if errdefs.IsNotFound(err) {
			return nil, driver.NotFoundf("container does not exist")
		}
		return nil, err
	}
	return &rec, nil
}

// driverOf returns the driver that runs rec.
func (s *session) driverOf(ctx context.Context, rec *record) (*core.Plugin, error) {
	if rec.DriverPath != "" {
		if d, err := s.core.Driver(ctx, rec.DriverPath); err == nil {
			return d, nil
		}
	}
	return s.core.Driver(ctx, rec.Driver)
}

// container loads id and its driver.
func (s *session) container(ctx context.Context, id string) (*record, *core.Plugin, error) {
	rec, err := s.load(id)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.driverOf(ctx, rec)
	if err != nil {
		return nil, nil, err
	}
	return rec, d, nil
}
