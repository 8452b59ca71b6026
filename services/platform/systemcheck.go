package platform

import (
	"context"
	"errors"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
)

// How long CachedSystemCheck remembers an answer, and how long it waits for one.
const (
	systemCheckYesFor  = 10 * time.Minute
	systemCheckNoFor   = 5 * time.Second
	systemCheckTimeout = 3 * time.Second
	systemCheckEntries = 10000
)

// CachedSystemCheck wraps a check that asks another part (the catalog) over the network.
// Answers are remembered per role, unit and system: a yes for ten minutes, a no for five
// seconds (so an agency registered a moment ago is soon accepted). When the other part
// cannot answer, a yes remembered earlier still holds, however old: agencies are never
// removed from the catalog nor moved to another unit, so a yes does not go stale.
func CachedSystemCheck(f SystemCheck) SystemCheck {
	type answer struct {
		err error
		at  time.Time
	}
	var mu sync.Mutex
	answers := map[string]answer{}
	return func(ctx context.Context, c *Caller) error {
		key := string(c.Role) + "\x00" + c.Unit + "\x00" + c.System
		now := time.Now()
		mu.Lock()
		a, ok := answers[key]
		mu.Unlock()
		if ok {
			ttl := systemCheckNoFor
			if a.err == nil {
				ttl = systemCheckYesFor
			}
			if now.Sub(a.at) < ttl {
				return a.err
			}
		}
		ctx, cancel := context.WithTimeout(ctx, systemCheckTimeout)
		defer cancel()
		err := f(ctx, c)
		var ce *Error
		if err != nil && (!errors.As(err, &ce) || ce.Code != codes.Unauthenticated) {
			// No answer: keep an earlier yes.
			if ok && a.err == nil {
				return nil
			}
			return err
		}
		mu.Lock()
		if len(answers) >= systemCheckEntries {
			clear(answers)
		}
		answers[key] = answer{err: err, at: now}
		mu.Unlock()
		return err
	}
}

// SystemUnavailable is the error of a token whose system could not be checked because the
// catalog did not answer.
func SystemUnavailable() *Error {
	return &Error{Code: codes.Unavailable, Reason: "CATALOG_UNAVAILABLE",
		Message:    "the token's system cannot be checked: the catalog part does not answer; try again shortly",
		MessageVI:  "Chưa kiểm tra được hệ thống của mã truy cập vì danh mục không phản hồi; vui lòng thử lại sau.",
		RetryDelay: time.Second}
}

// SystemNotOwned is the error of a token whose system does not belong to its unit or
// agency.
func SystemNotOwned(message string) *Error {
	return &Error{Code: codes.Unauthenticated, Reason: "TOKEN_SYSTEM_NOT_OWNED", Message: message,
		MessageVI: "Hệ thống của mã truy cập không thuộc đơn vị hoặc cơ quan của mã."}
}
