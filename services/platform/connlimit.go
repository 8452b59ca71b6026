package platform

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"
)

// DefaultMaxConnsPerIP is how many connections one client address may hold open to one
// listener at once unless configured. A well-behaved client needs a handful (gRPC
// multiplexes its calls on one connection; a browser opens six); the gateway itself opens
// two to each part, so a part's cap never stands in its way.
const DefaultMaxConnsPerIP = 256

// LimitConnsPerIP wraps lis so that no client address holds more than max connections at
// once: a connection over the cap is closed as soon as it is accepted, before any byte is
// read, and the listener goes on accepting the others. max 0 or less: no cap.
func LimitConnsPerIP(lis net.Listener, max int, lg *zap.Logger) net.Listener {
	if max <= 0 {
		return lis
	}
	if lg == nil {
		lg = zap.NewNop()
	}
	return &connLimitListener{Listener: lis, max: max, lg: lg, open: map[string]int{}}
}

type connLimitListener struct {
	net.Listener
	max int
	lg  *zap.Logger

	mu   sync.Mutex
	open map[string]int
	// refused counts connections closed over the cap; the log says so once a minute at most.
	refused  atomic.Int64
	lastWarn atomic.Int64
}

func (l *connLimitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		host := remoteHost(c.RemoteAddr())
		if l.take(host) {
			return &limitedConn{Conn: c, release: func() { l.give(host) }}, nil
		}
		_ = c.Close()
		l.refused.Add(1)
		if now := time.Now().Unix(); now-l.lastWarn.Load() >= 60 {
			l.lastWarn.Store(now)
			l.lg.Warn("connections over the cap per client address closed", zap.String("client", host),
				zap.Int("max_conns_per_ip", l.max), zap.Int64("refused_total", l.refused.Load()))
		}
	}
}

func (l *connLimitListener) take(host string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host] >= l.max {
		return false
	}
	l.open[host]++
	return true
}

func (l *connLimitListener) give(host string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[host]--; l.open[host] <= 0 {
		delete(l.open, host)
	}
}

// openConns is how many connections host holds (for tests).
func (l *connLimitListener) openConns(host string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open[host]
}

// limitedConn gives its place back once, when closed.
type limitedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}

// NetConn is the connection underneath (crypto/tls and net/http look for it).
func (c *limitedConn) NetConn() net.Conn { return c.Conn }

func remoteHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	if t, ok := a.(*net.TCPAddr); ok {
		return t.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
