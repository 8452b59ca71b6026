package dossier

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/lienthong/lienthong/services/platform"
	"google.golang.org/grpc/codes"
)

func TestStorageError(t *testing.T) {
	cases := []struct {
		err    error
		reason string
	}{
		{&fs.PathError{Op: "write", Path: "dossier.db", Err: syscall.ENOSPC}, "STORAGE_FULL"},
		{fmt.Errorf("commit: %w", syscall.EDQUOT), "STORAGE_FULL"},
		{errors.New("input/output error"), "STORAGE_FAILED"},
	}
	for _, tc := range cases {
		var pe *platform.Error
		if !errors.As(storageError(tc.err), &pe) || pe.Code != codes.Unavailable || pe.Reason != tc.reason {
			t.Errorf("%v: %v, want UNAVAILABLE %s", tc.err, pe, tc.reason)
		}
	}
}
