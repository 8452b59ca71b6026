package scoring

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	scoringv1 "github.com/lienthong/lienthong/proto/gen/lienthong/scoring/v1"
	"github.com/lienthong/lienthong/services/platform"
)

// Channels of a provincial system, and the states a channel can be in (docs/api.md,
// "Scoring"; README.md, "Interconnection status").
const (
	ChannelDossierPush      = "DOSSIER_PUSH"
	ChannelDocumentExchange = "DOCUMENT_EXCHANGE"
	ChannelMetricReporting  = "METRIC_REPORTING"

	StateConnected    = "CONNECTED"
	StateDegraded     = "DEGRADED"
	StateDisconnected = "DISCONNECTED"
)

var allChannels = []string{ChannelDossierPush, ChannelDocumentExchange, ChannelMetricReporting}

// subsystemRE is the subsystem name of a system id.
var subsystemRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

// validSystemID reports whether s is a system id: an agency code in either form
// (000.00.00.H31 or H26.107, docs/domain.md, Identifiers), `/`, and a subsystem name.
func validSystemID(s string) bool {
	agency, sub, ok := strings.Cut(s, "/")
	return ok && platform.IsAgencyCode(agency) && subsystemRE.MatchString(sub)
}

// Thresholds decide the state of a channel. They are configuration, not contract.
type Thresholds struct {
	// A heartbeat older than HeartbeatDegraded makes every channel DEGRADED, older than
	// HeartbeatDisconnected DISCONNECTED.
	HeartbeatDegraded     time.Duration
	HeartbeatDisconnected time.Duration
	// With a fresh heartbeat, a dossier push channel whose last accepted event is older
	// than DossierIdle is DEGRADED.
	DossierIdle time.Duration
	// With a fresh heartbeat, a document exchange channel with documents waiting for
	// acceptance longer than DocumentWaiting is DEGRADED.
	DocumentWaiting time.Duration
	// With a fresh heartbeat, a dossier push channel whose share of refused events in the
	// last 24 hours is above RefusedShare (of at least minRefusalSample events) is DEGRADED.
	RefusedShare float64
}

// minRefusalSample is how many events a share of refusals needs before it counts.
const minRefusalSample = 20

// RefusalCount is what one system pushed in the last 24 hours.
type RefusalCount struct {
	Accepted, Refused int64
	LastReason        string
}

// DefaultThresholds are used unless configured.
var DefaultThresholds = Thresholds{
	HeartbeatDegraded:     5 * time.Minute,
	HeartbeatDisconnected: 30 * time.Minute,
	DossierIdle:           72 * time.Hour,
	DocumentWaiting:       24 * time.Hour,
	RefusedShare:          0.2,
}

func (t Thresholds) describe() []string {
	return []string{
		fmt.Sprintf("heartbeat older than %s: DEGRADED; older than %s: DISCONNECTED", t.HeartbeatDegraded, t.HeartbeatDisconnected),
		fmt.Sprintf("dossier push: last accepted dossier event older than %s: DEGRADED", t.DossierIdle),
		fmt.Sprintf("document exchange: documents waiting for acceptance longer than %s: DEGRADED", t.DocumentWaiting),
		fmt.Sprintf("dossier push: more than %.0f%% of the last 24 hours' events refused (of at least %d): DEGRADED", t.RefusedShare*100, minRefusalSample),
	}
}

// DossierActivitySource says, per sending system, when its last dossier event was stored
// and how many of its events of the last 24 hours were accepted and refused (GRPCDossier
// asks the dossier part).
type DossierActivitySource interface {
	// Activity maps system ids to what is known of them; an *UnavailableError while the
	// dossier part cannot be asked.
	Activity(ctx context.Context) (map[string]SystemActivity, error)
}

// SystemActivity is what the dossier part knows of one sending system.
type SystemActivity struct {
	LastAccepted time.Time // when its last event was stored; zero if none ever was
	RefusalCount           // its events of the last 24 hours
}

// statusOf computes the status of every known system.
func (s *Service) statusOf(ctx context.Context, now time.Time) ([]*scoringv1.SystemStatus, error) {
	hbs, err := s.store.Heartbeats()
	if err != nil {
		return nil, err
	}
	reporting, err := s.store.ReportingActivity()
	if err != nil {
		return nil, err
	}
	var activity map[string]SystemActivity
	var activityErr error
	if s.activity != nil {
		activity, activityErr = s.activity.Activity(ctx)
	} else {
		activityErr = &UnavailableError{Reason: "the dossier service is not connected to this scoring part"}
	}
	t := s.thresholds
	out := make([]*scoringv1.SystemStatus, 0, len(hbs))
	for _, h := range hbs {
		st := &scoringv1.SystemStatus{System: h.GetSystem(), UnitCode: h.GetUnitCode(), LastHeartbeatAt: h.GetReceivedAt()}
		hbAt, _ := time.Parse(time.RFC3339, h.GetReceivedAt())
		age := now.Sub(hbAt)
		base, baseWhy := StateConnected, "heartbeat "+ago(age)
		switch {
		case age > t.HeartbeatDisconnected:
			base, baseWhy = StateDisconnected, fmt.Sprintf("no heartbeat for %s (silent longer than %s)", roundAge(age), t.HeartbeatDisconnected)
		case age > t.HeartbeatDegraded:
			base, baseWhy = StateDegraded, fmt.Sprintf("last heartbeat %s, later than %s", ago(age), t.HeartbeatDegraded)
		}
		channels := h.GetChannels()
		if len(channels) == 0 {
			channels = allChannels
		}
		for _, ch := range channels {
			cs := &scoringv1.ChannelStatus{Channel: ch, State: base, Reason: baseWhy, LastActivityAt: h.GetReceivedAt()}
			switch ch {
			case ChannelDossierPush:
				a := activity[h.GetSystem()]
				last := a.LastAccepted
				switch {
				case activityErr != nil:
					cs.Reason += "; dossier activity unknown: " + activityErr.Error()
				case last.IsZero():
					cs.Reason += "; no dossier event accepted from this system yet"
				default:
					if last.After(hbAt) {
						cs.LastActivityAt = last.In(vietnam).Format(time.RFC3339)
					}
					idle := now.Sub(last)
					cs.Reason += "; last dossier event accepted " + ago(idle)
					if base == StateConnected && idle > t.DossierIdle {
						cs.State = StateDegraded
						cs.Reason += fmt.Sprintf(", longer ago than %s", t.DossierIdle)
					}
				}
				cs.Reason += refusalWords(a.RefusalCount, activityErr)
				if activityErr == nil && cs.State == StateConnected && tooManyRefused(a.RefusalCount, t.RefusedShare) {
					cs.State = StateDegraded
					cs.Reason += fmt.Sprintf(", more than %.0f%%", t.RefusedShare*100)
				}
			case ChannelDocumentExchange:
				n, oldest, err := s.docs.WaitingDocuments(ctx, agencyOf(h.GetSystem()), t.DocumentWaiting)
				switch {
				case err != nil:
					if base == StateConnected {
						cs.State = StateDegraded
					}
					cs.Reason += "; " + unavailableReason("document-exchange", err) + ", so documents waiting for acceptance cannot be checked"
				case n > 0:
					if base == StateConnected {
						cs.State = StateDegraded
					}
					cs.Reason += fmt.Sprintf("; %d documents waiting for acceptance longer than %s (oldest since %s)", n, t.DocumentWaiting, oldest.In(vietnam).Format(time.RFC3339))
				default:
					cs.Reason += "; no document waiting for acceptance too long"
				}
			case ChannelMetricReporting:
				if at, ok := reporting[h.GetSystem()]; ok {
					cs.Reason += "; last metric report submitted " + at
					if t, err := time.Parse(time.RFC3339, at); err == nil && t.After(hbAt) {
						cs.LastActivityAt = at
					}
				} else {
					cs.Reason += "; no metric report submitted by this system yet"
				}
			}
			st.Channels = append(st.Channels, cs)
		}
		out = append(out, st)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetSystem() < out[j].GetSystem() })
	return out, nil
}

func agencyOf(system string) string {
	a, _, _ := strings.Cut(system, "/")
	return a
}

func roundAge(d time.Duration) time.Duration {
	if d > time.Minute {
		return d.Round(time.Minute)
	}
	return d.Round(time.Second)
}

func ago(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return roundAge(d).String() + " ago"
}

// connections counts, per unit, the systems and those connected (for the interconnection
// formulas).
func (s *Service) connections(ctx context.Context) (map[string]connCount, error) {
	sts, err := s.statusOf(ctx, s.now())
	if err != nil {
		return nil, err
	}
	out := map[string]connCount{}
	for _, st := range sts {
		c := out[st.GetUnitCode()]
		c.systems++
		all := true
		for _, ch := range st.GetChannels() {
			if ch.GetState() != StateConnected {
				all = false
			}
			if ch.GetChannel() == ChannelDossierPush && ch.GetState() == StateConnected {
				c.dossierConnected++
			}
		}
		if all {
			c.allConnected++
		}
		out[st.GetUnitCode()] = c
	}
	return out, nil
}

func tooManyRefused(rc RefusalCount, share float64) bool {
	n := rc.Accepted + rc.Refused
	return n >= minRefusalSample && float64(rc.Refused) > share*float64(n)
}

// refusalWords tells the share of refused events of the last 24 hours.
func refusalWords(rc RefusalCount, err error) string {
	switch n := rc.Accepted + rc.Refused; {
	case err != nil:
		return "; refused events unknown: " + err.Error()
	case n == 0:
		return "; no dossier events in the last 24 hours"
	case rc.Refused == 0:
		return fmt.Sprintf("; none of %d events refused in the last 24 hours", n)
	default:
		return fmt.Sprintf("; %d of %d events refused in the last 24 hours (%.0f%%, last for %s)", rc.Refused, n, 100*float64(rc.Refused)/float64(n), rc.LastReason)
	}
}
