package core

import (
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/rtd-project/rtd/internal/imagestore"
)

// DefaultRoot is where rtd keeps its records when no root is given.
const DefaultRoot = "/run/rtd"

// RootEnv names the environment variable that overrides DefaultRoot.
const RootEnv = "RTD_ROOT"

// Options configure a Core.
type Options struct {
	// Root holds records, driver state and sockets; default DefaultRoot.
	Root string
	// SearchPath lists the directories searched for drivers; default
	// DefaultSearchPath().
	SearchPath []string
	// Logger receives the core's and the drivers' log lines; nil discards.
	Logger hclog.Logger
	// StartTimeout bounds a driver's go-plugin handshake; 0 means the SDK's
	// default.
	StartTimeout time.Duration
	// WarmIdle, when positive, keeps driver processes warm across Cores
	// (rtd commands) of the same root: a driver is started detached and
	// reused through a socket under the root, and ends itself after WarmIdle
	// without a client (warm.go). Zero launches a driver per Core, ended by
	// Close.
	WarmIdle time.Duration
	// HelloBinary is the static executable served as the "hello" image;
	// default: the running executable.
	HelloBinary string
	// ImageRoot holds the image store; default: $RTD_IMAGE_ROOT, else
	// DefaultImageRoot with the default root, else <root>/images.
	ImageRoot string
}

// Core is the thin core of rtd. It is cheap to create; Close ends the driver
// processes it launched (containers keep running).
type Core struct {
	root         string
	searchPath   []string
	logger       hclog.Logger
	startTimeout time.Duration
	warmIdle     time.Duration
	helloBinary  string
	imageRoot    string

	imagesOnce sync.Once
	images     *imagestore.Store
	imagesErr  error

	mu      sync.Mutex
	drivers map[string]*Plugin // by executable path

	rootOnce sync.Once
	rootErr  error
	// creating holds the locked "creating" markers of this core's
	// creations in progress, by id.
	creating map[string]*os.File
}

// New returns a Core for opts.
func New(opts Options) *Core {
	if opts.Root == "" {
		opts.Root = DefaultRoot
	}
	if abs, err := filepath.Abs(opts.Root); err == nil {
		opts.Root = abs
	}
	if opts.SearchPath == nil {
		opts.SearchPath = DefaultSearchPath()
	}
	if opts.Logger == nil {
		opts.Logger = hclog.NewNullLogger()
	}
	return &Core{
		root:         opts.Root,
		searchPath:   opts.SearchPath,
		logger:       opts.Logger,
		startTimeout: opts.StartTimeout,
		warmIdle:     opts.WarmIdle,
		helloBinary:  opts.HelloBinary,
		imageRoot:    imageRoot(opts),
		drivers:      map[string]*Plugin{},
		creating:     map[string]*os.File{},
	}
}

// CheckRoot refuses a root that another user could have written: the
// root, its subdirectories and its parents must be owned by the invoking
// user or root and not writable by group or others (a sticky parent such
// as /tmp excepted), as sshd and sudo require of their files. rtd runs the
// driver a record names, so a root others can write would let them run
// programs as rtd's user. PermissionDenied says what to do; the answer is
// kept for the core's lifetime. DriverOf checks it before it uses a record.
func (c *Core) CheckRoot() error {
	c.rootOnce.Do(func() { c.rootErr = checkRootOwnership(c.root) })
	return c.rootErr
}

// Root is the root directory of this core.
func (c *Core) Root() string { return c.root }

// SearchPath is the list of directories searched for drivers.
func (c *Core) SearchPath() []string { return append([]string(nil), c.searchPath...) }

// Logger is the core's logger.
func (c *Core) Logger() hclog.Logger { return c.logger }

// FindDriver resolves a driver name or path on the core's search path.
func (c *Core) FindDriver(nameOrPath string) (DriverBinary, error) {
	return FindDriver(nameOrPath, c.searchPath)
}

// ListDrivers lists the drivers on the core's search path.
func (c *Core) ListDrivers() []DriverBinary { return ListDrivers(c.searchPath) }

// Close ends every driver process this core launched.
func (c *Core) Close() {
	c.mu.Lock()
	drivers := c.drivers
	c.drivers = map[string]*Plugin{}
	c.mu.Unlock()
	for _, d := range drivers {
		d.Close()
	}
}

func (c *Core) containersDir() string { return filepath.Join(c.root, "containers") }

// ContainerDir is the record directory of container id.
func (c *Core) ContainerDir(id string) string { return filepath.Join(c.containersDir(), id) }

func (c *Core) lockPath() string { return filepath.Join(c.root, "lock") }

func (c *Core) socketDir() string { return filepath.Join(c.root, "sock") }

// DriverStateDir is the state directory given to driver name.
func (c *Core) DriverStateDir(name string) string { return filepath.Join(c.root, "drivers", name) }
