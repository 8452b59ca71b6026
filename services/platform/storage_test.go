package platform

import (
	"errors"
	"syscall"
	"testing"
)

func TestStorageFull(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{syscall.ENOSPC, true},
		{errors.New("file resize error: truncate dossier.db: file too large"), true}, // bbolt keeps only the text
		{errors.New("write docexchange.db: no space left on device"), true},
		{errors.New("unexpected EOF"), false},
		{nil, false},
	}
	for _, tc := range cases {
		if got := StorageFull(tc.err); got != tc.want {
			t.Errorf("StorageFull(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
