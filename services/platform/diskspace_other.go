//go:build !unix

package platform

// freeSpace is unknown where statfs does not exist.
func freeSpace(string) (uint64, bool) { return 0, false }
