// Package platformtest holds what the tests of every part share.
package platformtest

import (
	"testing"
	"time"
)

// WaitFor polls cond until it holds, and fails the test if it does not within limit: tests
// wait on a condition this way rather than sleeping for a time they hope is long enough.
func WaitFor(t testing.TB, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // the poll's period, not a wait for the condition
	}
}
