package platform

import (
	"errors"
	"strings"
	"syscall"

	"google.golang.org/grpc/codes"
)

// StorageFull recognises a write that failed because the disk, the quota or the file size
// limit is reached. bbolt reports some of these as text only ("file resize error: ...:
// file too large"), so the system's messages are matched too.
func StorageFull(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) || errors.Is(err, syscall.EFBIG) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{syscall.ENOSPC.Error(), syscall.EDQUOT.Error(), syscall.EFBIG.Error()} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}

// ErrStorageFull is what a caller is told when its write could not be stored for lack of
// space: nothing of the request was stored.
func ErrStorageFull(part string) *Error {
	return &Error{Code: codes.Unavailable, Reason: "STORAGE_FULL",
		Message:   "the " + part + " part's data disk is full: nothing of this request was stored; try again when space is freed",
		MessageVI: "Ổ đĩa dữ liệu đã đầy: chưa lưu gì của yêu cầu này; vui lòng thử lại khi có dung lượng."}
}
