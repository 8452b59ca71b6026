// Package simulate makes realistic dossier histories: the events a provincial one-stop
// system would send for a dossier, following the legal transitions, with configurable
// shares of online filing, supplements, late resolution and withdrawals. The demo data and
// `lienthong bench` use it.
package simulate

import (
	"fmt"
	"math/rand/v2"
	"time"

	dossierv1 "github.com/lienthong/lienthong/proto/gen/lienthong/dossier/v1"
)

// Ref is where a dossier is filed: a unit, an agency and a procedure it runs.
type Ref struct {
	Unit, Agency, Procedure string
	ProcessingDays          int
}

// Profile gives the shares (0–1) of what happens to dossiers.
type Profile struct {
	Online, Postal   float64 // channel; the rest is direct
	Supplement       float64 // a supplement is asked for once
	SecondSupplement float64 // of those, asked a second time (late by rule)
	Late             float64 // resolved after the due date
	Financial        float64 // a financial obligation is asked for
	Withdrawn        float64 // the applicant withdraws
	NotAccepted      float64 // not accepted at the desk
	PaidOnline       float64 // of online dossiers, fees paid online
	Digitized        float64
	ElectronicResult float64
	Returned         float64 // of resolved, the result is returned
}

// Typical is a profile close to the source articles: about 10% online.
var Typical = Profile{Online: 0.10, Postal: 0.02, Supplement: 0.12, SecondSupplement: 0.1, Late: 0.06, Financial: 0.05,
	Withdrawn: 0.02, NotAccepted: 0.02, PaidOnline: 0.5, Digitized: 0.3, ElectronicResult: 0.2, Returned: 0.9}

// Calendar gives due dates: *dossier.Calendar. An interface, so that this package does not
// import package dossier and the dossier part can use it for its demo data.
type Calendar interface {
	AddWorkingDays(from time.Time, n int) time.Time
}

// vietnam is Vietnam time, as dossier.Vietnam: UTC+7 all year.
var vietnam = time.FixedZone("ICT", 7*3600)

// Code makes a dossier code AGENCY-YYMMDD-NNNN.
func Code(agency string, day time.Time, n int) string {
	return fmt.Sprintf("%s-%s-%04d", agency, day.In(vietnam).Format("060102"), n%10000)
}

// Dossier returns the events of one dossier received at `received`, in time order, as far
// as they have happened by `now`. Event ids are code + "/" + step number.
func Dossier(rng *rand.Rand, code string, ref Ref, received time.Time, p Profile, cal Calendar, now time.Time) []*dossierv1.DossierEvent {
	b := &builder{code: code, now: now}
	channel := dossierv1.Channel_CHANNEL_DIRECT
	switch x := rng.Float64(); {
	case x < p.Online:
		channel = dossierv1.Channel_CHANNEL_ONLINE
	case x < p.Online+p.Postal:
		channel = dossierv1.Channel_CHANNEL_POSTAL
	}
	first := &dossierv1.DossierEvent{
		Status: dossierv1.DossierStatus_DOSSIER_STATUS_NEW, UnitCode: ref.Unit, AgencyCode: ref.Agency,
		ProcedureCode: ref.Procedure, Channel: channel, Digitized: rng.Float64() < p.Digitized,
		ApplicantKind: dossierv1.ApplicantKind(1 + rng.IntN(3)),
	}
	t := received
	if !b.add(first, t) {
		return b.events
	}
	t = t.Add(time.Duration(10+rng.IntN(240)) * time.Minute)
	if rng.Float64() < p.NotAccepted {
		b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_NOT_ACCEPTED, Note: "Hồ sơ không đủ điều kiện tiếp nhận"}, t)
		return b.events
	}
	days := ref.ProcessingDays
	if days <= 0 {
		days = 5
	}
	due := cal.AddWorkingDays(t, days)
	accepted := &dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_ACCEPTED}
	if rng.IntN(2) == 0 { // half the systems send NgayHenTra; for the rest it comes from the calendar
		accepted.DueAt = due.In(vietnam).Format(time.RFC3339)
	}
	if !b.add(accepted, t) {
		return b.events
	}
	step := func(min, max time.Duration) {
		t = t.Add(min + time.Duration(rng.Int64N(int64(max-min))))
	}
	step(time.Hour, 20*time.Hour)
	if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING, Step: "Thẩm định hồ sơ"}, t) {
		return b.events
	}
	if rng.Float64() < p.Withdrawn {
		step(time.Hour, 48*time.Hour)
		b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_WITHDRAWN, Note: "Công dân xin rút hồ sơ"}, t)
		return b.events
	}
	pause := time.Duration(0)
	supplements := 0
	if rng.Float64() < p.Supplement {
		supplements = 1
		if rng.Float64() < p.SecondSupplement {
			supplements = 2
		}
	}
	for i := 0; i < supplements; i++ {
		step(2*time.Hour, 30*time.Hour)
		if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_SUPPLEMENT_REQUESTED, Note: "Đề nghị bổ sung giấy tờ"}, t) {
			return b.events
		}
		before := t
		step(24*time.Hour, 96*time.Hour)
		pause += t.Sub(before)
		if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING, Step: "Tiếp tục xử lý sau bổ sung"}, t) {
			return b.events
		}
	}
	paidOnline := channel == dossierv1.Channel_CHANNEL_ONLINE && rng.Float64() < p.PaidOnline
	if rng.Float64() < p.Financial {
		step(time.Hour, 24*time.Hour)
		if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_FINANCIAL_OBLIGATION}, t) {
			return b.events
		}
		step(2*time.Hour, 72*time.Hour)
		if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_PROCESSING, PaidOnline: paidOnline}, t) {
			return b.events
		}
	}
	// Resolution: before the effective due date, or late.
	effDue := due.Add(pause)
	var done time.Time
	if rng.Float64() < p.Late {
		done = effDue.Add(time.Duration(1+rng.IntN(10)) * 24 * time.Hour)
	} else {
		span := effDue.Sub(t)
		if span < time.Hour {
			span = time.Hour
		}
		done = t.Add(time.Duration(rng.Int64N(int64(span))))
		if done.After(effDue) {
			done = effDue
		}
	}
	if done.Before(t) {
		done = t.Add(time.Minute)
	}
	t = done
	electronic := rng.Float64() < p.ElectronicResult
	if !b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_RESOLVED, PaidOnline: paidOnline, ElectronicResult: electronic}, t) {
		return b.events
	}
	if rng.Float64() < p.Returned {
		step(time.Hour, 72*time.Hour)
		b.add(&dossierv1.DossierEvent{Status: dossierv1.DossierStatus_DOSSIER_STATUS_RESULT_RETURNED}, t)
	}
	return b.events
}

type builder struct {
	code   string
	now    time.Time
	events []*dossierv1.DossierEvent
}

// add appends an event at t unless t is after now; it reports whether it did.
func (b *builder) add(ev *dossierv1.DossierEvent, t time.Time) bool {
	if t.After(b.now) {
		return false
	}
	ev.DossierCode = b.code
	ev.EventId = fmt.Sprintf("%s/%d", b.code, len(b.events)+1)
	ev.OccurredAt = t.In(vietnam).Format(time.RFC3339)
	b.events = append(b.events, ev)
	return true
}
