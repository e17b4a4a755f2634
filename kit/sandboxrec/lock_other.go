//go:build !unix

package sandboxrec

import (
	"errors"
	"os"
)

func lockFile(*os.File) error { return errors.New("sandbox locks need flock (unix)") }
