//go:build !unix

package platform

import (
	"os"
	"time"
)

// lockFile leaves the lock to bbolt where flock does not exist.
func lockFile(*os.File, time.Duration, bool) error { return nil }
