package platform

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// DefaultSendTimeout bounds one message of a server stream (a feed page, an inbox document,
// a chunk of an attachment or of a backup). A reader that keeps up takes a fraction of a
// second per message: the largest is a few hundred KiB, and the HTTP/2 flow-control window
// already lets that much sit in flight, so even a slow provincial link (1 Mbit/s) drains it
// in a few seconds. Thirty seconds leaves room for such links, a client's GC pause or a
// brief network outage, while a client that stopped reading holds one goroutine and one
// encoded message for at most that long before its stream is ended (docs/security.md).
const DefaultSendTimeout = 30 * time.Second

// SendWithTimeout runs send and waits at most d for it; a send still blocked after d (a
// client that stopped reading) makes it return a DEADLINE_EXCEEDED status error that the
// handler returns, which ends the stream and frees the blocked send.
//
// Callers hold no storage transaction or lock while calling it: what is sent has been copied
// out first. After an error the handler must return at once and not send again on the stream:
// grpc-go cancels the stream's context when the handler returns, which makes the blocked
// Send (waiting for flow-control quota) return, so its goroutine ends too. A d of zero or
// less sends without a bound. If ctx ends first (the client went away, or the server is
// stopping), the context's status is returned.
func SendWithTimeout(ctx context.Context, d time.Duration, send func() error) error {
	if d <= 0 {
		return send()
	}
	done := make(chan error, 1)
	go func() { done <- send() }()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case err := <-done:
		return err
	case <-timer.C:
		return SendTimedOut(d)
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
}

// SendTimedOut is the error of a stream whose client did not take a message within d.
func SendTimedOut(d time.Duration) *Error {
	return &Error{
		Code:      codes.DeadlineExceeded,
		Reason:    "SEND_TIMEOUT",
		Message:   fmt.Sprintf("the client did not read the stream for %s; the stream is ended", d),
		MessageVI: fmt.Sprintf("Máy khách không nhận dữ liệu của luồng trong %s; luồng đã bị đóng.", d),
	}
}
