package main

import (
	"flag"

	"github.com/lienthong/lienthong/gateway"
	"github.com/lienthong/lienthong/services/catalog"
	"github.com/lienthong/lienthong/services/docexchange"
	"github.com/lienthong/lienthong/services/dossier"
	"github.com/lienthong/lienthong/services/platform"
	"github.com/lienthong/lienthong/services/scoring"
)

// limitFlags bound what one client address and one calling system may hold open.
type limitFlags struct {
	maxConnsPerIP       int
	partMaxConnsPerIP   int
	maxStreamsPerSystem int
	maxReadsPerCaller   int
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.maxConnsPerIP, "max-conns-per-ip", platform.DefaultMaxConnsPerIP,
		"connections one client address may hold open to the gateway; more are closed at once (-1: no cap; behind a reverse proxy every client has its address)")
	fs.IntVar(&l.partMaxConnsPerIP, "part-max-conns-per-ip", platform.DefaultMaxConnsPerIP,
		"connections one client address may hold open to a part's gRPC port (the gateway uses two per part; -1: no cap)")
	fs.IntVar(&l.maxStreamsPerSystem, "max-streams-per-system", platform.DefaultMaxStreamsPerSystem,
		"streams (watches, subscriptions, uploads) one calling system may hold open on a part at once; more are refused RESOURCE_EXHAUSTED TOO_MANY_STREAMS (-1: no cap)")
	fs.IntVar(&l.maxReadsPerCaller, "max-reads-per-caller", gateway.DefaultMaxReadsPerCaller,
		"reads (GET, gRPC Get/List/...) one province or central body (all its systems), or one anonymous client address, may have in flight through the gateway at once, with half a reader's time a second on average; more wait their turn (admin tokens are not gated; -1: no gate)")
}

// partPolicies are the parts' access policies, which the gateway applies before reading a
// request's body.
var partPolicies = map[string]platform.Policy{
	catalog.Part:     catalog.Policy,
	dossier.Part:     dossier.Policy,
	docexchange.Part: docexchange.Policy,
	scoring.Part:     scoring.Policy,
}
