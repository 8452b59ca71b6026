package platform

import (
	"google.golang.org/grpc"
)

// retryPolicy makes calls between parts retry, with backoff, while the part they call is
// unavailable (restarting, or not up yet).
const retryPolicy = `{
  "methodConfig": [{
    "name": [{}],
    "retryPolicy": {
      "maxAttempts": 5,
      "initialBackoff": "0.1s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// Dial connects one part to another (lazily: the other part may start later), over mutual
// TLS when tlsConf says so.
func Dial(addr string, maxMsg int, tlsConf PartTLS) (*grpc.ClientConn, error) {
	if maxMsg <= 0 {
		maxMsg = DefaultMaxMessageBytes
	}
	return grpc.NewClient(addr,
		tlsConf.DialOption(),
		grpc.WithDefaultServiceConfig(retryPolicy),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)),
	)
}
