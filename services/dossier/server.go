package dossier

import (
	"context"
	"errors"
	"io"
	"strconv"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
	"go.uber.org/zap"
	statuspb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/store/v1"
)

// Policy: tracking by code is public; everything else needs a token.
var Policy = platform.Policy{
	dossierv1.DossierService_TrackDossier_FullMethodName: platform.Public,
}

// Register adds the dossier service to a part's server.
func Register(s *platform.Server, svc *Service) {
	dossierv1.RegisterDossierServiceServer(s, svc)
}

func writers(ctx context.Context) error {
	_, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleProvince)
	return err
}

// CreateDossierEvent takes one event.
func (s *Service) CreateDossierEvent(ctx context.Context, r *dossierv1.CreateDossierEventRequest) (*dossierv1.CreateDossierEventResponse, error) {
	if err := writers(ctx); err != nil {
		return nil, err
	}
	j := s.submit(ctx, []*dossierv1.DossierEvent{r.GetEvent()})
	res := j.results[0]
	if res.err != nil {
		return nil, res.err
	}
	return &dossierv1.CreateDossierEventResponse{EventId: r.GetEvent().GetEventId(), Duplicate: res.dup,
		DossierStatus: dossierv1.DossierStatus(res.status), Sequence: res.seq}, nil
}

func tooMany(n int) error {
	return platform.ResourceExhausted("BATCH_TOO_LARGE",
		"a batch holds at most 1000 events, got "+strconv.Itoa(n),
		"Mỗi lô tối đa 1000 sự kiện.")
}

// BatchCreateDossierEvents takes up to 1000 events and judges each alone.
func (s *Service) BatchCreateDossierEvents(ctx context.Context, r *dossierv1.BatchCreateDossierEventsRequest) (*dossierv1.BatchCreateDossierEventsResponse, error) {
	if err := writers(ctx); err != nil {
		return nil, err
	}
	if n := len(r.GetEvents()); n > MaxBatch {
		return nil, tooMany(n)
	} else if n == 0 {
		return nil, platform.Invalid(platform.FieldViolation{Field: "events", Description: "no events"})
	}
	j := s.submit(ctx, r.GetEvents())
	return &dossierv1.BatchCreateDossierEventsResponse{Results: s.eventResults(ctx, r.GetEvents(), j)}, nil
}

// eventResults turns a job's results into the API's, errors as google.rpc.Status with the
// request id; internal errors are logged and hidden.
func (s *Service) eventResults(ctx context.Context, events []*dossierv1.DossierEvent, j *job) []*dossierv1.EventResult {
	out := make([]*dossierv1.EventResult, len(events))
	reqID := platform.RequestID(ctx)
	for i, res := range j.results {
		er := &dossierv1.EventResult{EventId: events[i].GetEventId(), Duplicate: res.dup, DossierStatus: dossierv1.DossierStatus(res.status), Sequence: res.seq}
		if res.err != nil {
			er.DossierStatus, er.Sequence = 0, 0
			er.Error = s.clientStatus(res.err, reqID)
		}
		out[i] = er
	}
	return out
}

func (s *Service) clientStatus(err error, reqID string) *statuspb.Status {
	var ce *platform.Error
	if errors.As(err, &ce) {
		return ce.WithMetadata("request_id", reqID).GRPCStatus().Proto()
	}
	s.lg.Error("event failed", zap.String("request_id", reqID), zap.Error(err))
	return (&platform.Error{Code: codes.Internal, Reason: "INTERNAL", Message: "internal error; quote request id " + reqID,
		Metadata: map[string]string{"request_id": reqID}}).GRPCStatus().Proto()
}

// StreamDossierEvents takes batches and answers each, in order, once it is durable. Up to
// eight batches may wait for their commit at once; more wait on the stream. Each answer is
// sent within the send timeout: a client that stops reading its answers has its stream
// ended (what it sent before is stored or refused as usual; its event ids make a resend
// safe).
func (s *Service) StreamDossierEvents(stream grpc.BidiStreamingServer[dossierv1.StreamDossierEventsRequest, dossierv1.StreamDossierEventsResponse]) error {
	ctx := stream.Context()
	if err := writers(ctx); err != nil {
		return err
	}
	queue := make(chan inflight, 8)
	answererGone := make(chan struct{})
	recvErr := make(chan error, 1)
	// The receiver runs beside the handler so that a failed answer ends the call at once:
	// returning cancels the stream, which ends a Recv still waiting.
	go func() {
		defer close(queue)
		recvErr <- s.receiveBatches(ctx, stream, queue, answererGone)
	}()
	if err := s.answerBatches(ctx, stream, queue); err != nil {
		close(answererGone)
		return err
	}
	return <-recvErr // the queue is closed: the receiver has finished
}

// inflight is a batch of an event stream on its way to its answer.
type inflight struct {
	id     string
	events []*dossierv1.DossierEvent
	j      *job
	err    error
}

// receiveBatches reads the batches of an event stream and queues them for the writer and
// for their answer, until the client closes its side (nil), the stream fails, or the
// answers stopped.
func (s *Service) receiveBatches(ctx context.Context, stream grpc.BidiStreamingServer[dossierv1.StreamDossierEventsRequest, dossierv1.StreamDossierEventsResponse],
	queue chan<- inflight, answererGone <-chan struct{}) error {
	for {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		f := inflight{id: req.GetBatchId(), events: req.GetEvents()}
		if n := len(f.events); n > MaxBatch {
			f.err = tooMany(n)
		} else {
			f.j = s.prepare(ctx, f.events)
			s.enqueue(ctx, f.j)
		}
		select {
		case queue <- f:
		case <-answererGone:
			return nil
		}
	}
}

// answerBatches sends each queued batch's answer once its events are committed, each
// within the send timeout, until the queue is closed.
func (s *Service) answerBatches(ctx context.Context, stream grpc.BidiStreamingServer[dossierv1.StreamDossierEventsRequest, dossierv1.StreamDossierEventsResponse],
	queue <-chan inflight) error {
	for f := range queue {
		resp := &dossierv1.StreamDossierEventsResponse{BatchId: f.id}
		if f.err != nil {
			st := s.clientStatus(f.err, platform.RequestID(ctx))
			for _, ev := range f.events {
				resp.Results = append(resp.Results, &dossierv1.EventResult{EventId: ev.GetEventId(), Error: st})
			}
		} else {
			<-f.j.done
			resp.Results = s.eventResults(ctx, f.events, f.j)
		}
		if err := platform.SendWithTimeout(ctx, s.sendTimeout, func() error { return stream.Send(resp) }); err != nil {
			return err
		}
	}
	return nil
}

// readScope checks that the caller may read a unit's dossiers and returns the unit to use:
// a province token reads only its own unit, given or not.
func readScope(ctx context.Context, unit string) (string, error) {
	c, err := platform.RequireRole(ctx, platform.RoleAdmin, platform.RoleMinistry, platform.RoleProvince)
	if err != nil {
		return "", err
	}
	if c.Role == platform.RoleProvince {
		if unit != "" && unit != c.Unit {
			_, err := platform.MayReadUnit(ctx, unit)
			return "", err
		}
		return c.Unit, nil
	}
	return unit, nil
}

// GetDossier answers a dossier with its timeline.
func (s *Service) GetDossier(ctx context.Context, r *dossierv1.GetDossierRequest) (*dossierv1.Dossier, error) {
	var out *dossierv1.Dossier
	err := s.db.View(func(tx *bolt.Tx) error {
		st, err := loadState(tx, r.GetCode())
		if err != nil {
			return err
		}
		if st == nil {
			return platform.NotFound("dossier", r.GetCode())
		}
		if _, err := platform.MayReadUnit(ctx, st.GetUnitCode()); err != nil {
			return err
		}
		out = s.dossierView(st)
		for _, seq := range st.GetEventSeqs() {
			se, err := loadEvent(tx, seq)
			if err != nil {
				return err
			}
			out.Events = append(out.Events, se.GetEvent())
		}
		return nil
	})
	return out, err
}

func (s *Service) dossierView(st *storev1.DossierState) *dossierv1.Dossier {
	now := s.nowMillis()
	d := &dossierv1.Dossier{
		Code: st.GetCode(), Status: dossierv1.DossierStatus(st.GetStatus()), UnitCode: st.GetUnitCode(),
		AgencyCode: st.GetAgencyCode(), ProcedureCode: st.GetProcedureCode(), Channel: dossierv1.Channel(st.GetChannel()),
		ReceivedAt: fmtMillis(st.GetReceivedAt()), AcceptedAt: fmtMillis(st.GetAcceptedAt()), DueAt: fmtMillis(st.GetDueAt()),
		EffectiveDueAt: fmtMillis(effectiveDue(st, now, s.cal)), FinishedAt: fmtMillis(st.GetFinishedAt()),
		Timeliness: verdict(st, now, s.cal), SupplementCount: st.GetSupplementCount(),
		ApologyCount: st.GetApologyCount(), ApologyDueAt: fmtMillis(st.GetApologyDueAt()),
		RescheduleReasons: st.GetRescheduleReasons(), ReturnedAt: fmtMillis(st.GetReturnedAt()),
		ApplicantKind: dossierv1.ApplicantKind(st.GetApplicantKind()), PaidOnline: st.GetPaidOnline(),
		Digitized: st.GetDigitized(), ElectronicResult: st.GetElectronicResult(), DueSource: st.GetDueSource(),
		LastEventAt: fmtMillis(st.GetLastEventAt()), CommuneCode: st.GetCommuneCode(),
	}
	for _, p := range st.GetSupplementPauses() {
		d.Pauses = append(d.Pauses, &dossierv1.Pause{StartedAt: fmtMillis(p.GetStart()), EndedAt: fmtMillis(p.GetEnd())})
	}
	return d
}

// TrackDossier answers the public view of a dossier.
func (s *Service) TrackDossier(_ context.Context, r *dossierv1.TrackDossierRequest) (*dossierv1.DossierTrack, error) {
	var st *storev1.DossierState
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		st, err = loadState(tx, r.GetCode())
		return err
	})
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, platform.NotFound("dossier", r.GetCode())
	}
	d := s.dossierView(st)
	return &dossierv1.DossierTrack{Code: d.Code, Status: d.Status, ReceivedAt: d.ReceivedAt, EffectiveDueAt: d.EffectiveDueAt,
		FinishedAt: d.FinishedAt, Timeliness: d.Timeliness}, nil
}

// maxScan bounds the records one list call reads; a page may come back short with a token.
const maxScan = 100000

// ListDossiers answers dossiers by code, filtered.
func (s *Service) ListDossiers(ctx context.Context, r *dossierv1.ListDossiersRequest) (*dossierv1.ListDossiersResponse, error) {
	unit, err := readScope(ctx, r.GetUnit())
	if err != nil {
		return nil, err
	}
	size, err := platform.PageSize(r.GetPageSize())
	if err != nil {
		return nil, err
	}
	if _, ok := dossierv1.DossierStatus_name[int32(r.GetStatus())]; !ok {
		return nil, platform.Invalid(platform.FieldViolation{Field: "status", Description: "unknown status"})
	}
	query := "dossiers|" + unit + "|" + r.GetAgency() + "|" + r.GetProcedure() + "|" + r.GetStatus().String() + "|" + strconv.FormatBool(r.GetOverdue())
	after, err := platform.DecodePageToken(query, r.GetPageToken())
	if err != nil {
		return nil, err
	}
	now := s.nowMillis()
	out := &dossierv1.ListDossiersResponse{}
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDossiers).Cursor()
		var k, v []byte
		// No seek to the agency code: a dossier code need not start with the code of the
		// agency it is filed at (national long forms never do), so every code is scanned.
		switch {
		case after != "":
			k, v = c.Seek([]byte(after))
			if k != nil && string(k) == after {
				k, v = c.Next()
			}
		default:
			k, v = c.First()
		}
		scanned := 0
		for ; k != nil; k, v = c.Next() {
			scanned++
			if scanned > maxScan {
				out.NextPageToken = platform.EncodePageToken(query, string(k))
				return nil
			}
			st := &storev1.DossierState{}
			if err := proto.Unmarshal(v, st); err != nil {
				return err
			}
			if (unit != "" && st.GetUnitCode() != unit) || (r.GetAgency() != "" && st.GetAgencyCode() != r.GetAgency()) ||
				(r.GetProcedure() != "" && st.GetProcedureCode() != r.GetProcedure()) ||
				(r.GetStatus() != 0 && st.GetStatus() != int32(r.GetStatus())) ||
				(r.GetOverdue() && verdict(st, now, s.cal) != dossierv1.Timeliness_TIMELINESS_OVERDUE) {
				continue
			}
			if len(out.Dossiers) == size {
				out.NextPageToken = platform.EncodePageToken(query, out.Dossiers[size-1].GetCode())
				return nil
			}
			out.Dossiers = append(out.Dossiers, s.dossierView(st))
		}
		return nil
	})
	return out, err
}

// GetDossierStats answers the national report's figures.
func (s *Service) GetDossierStats(ctx context.Context, r *dossierv1.GetDossierStatsRequest) (*dossierv1.DossierStats, error) {
	unit, err := readScope(ctx, r.GetUnit())
	if err != nil {
		return nil, err
	}
	q, err := parseStatsQuery(r, s.nowMillis())
	if err != nil {
		return nil, err
	}
	q.unit = unit
	s.refreshGeo(ctx, q)
	return s.stats.query(q, s.nowMillis(), s.refs), nil
}

// refreshGeo makes sure the catalog's roll-up and fields are cached for the units and
// procedures that have statistics; when the catalog is down the last answers (or the codes
// themselves) are used.
func (s *Service) refreshGeo(ctx context.Context, q statsQuery) {
	if !q.current && q.groupBy != "field" {
		return
	}
	s.stats.mu.RLock()
	units := make([]string, 0, len(s.stats.units))
	for u := range s.stats.units {
		units = append(units, u)
	}
	var procs []string
	if q.groupBy == "field" {
		for p := range s.stats.procs {
			procs = append(procs, p)
		}
	}
	s.stats.mu.RUnlock()
	if !q.current {
		units = nil
	}
	if err := s.refs.ensure(ctx, procs, nil, units); err != nil {
		s.lg.Warn("statistics use cached catalog answers")
	}
}
