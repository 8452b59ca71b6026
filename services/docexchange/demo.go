package docexchange

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	storev1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/store/v1"
	docv1 "github.com/lienthong/lienthong/proto/gen/lienthong/docexchange/v1"
	"github.com/lienthong/lienthong/services/platform"
	bolt "go.etcd.io/bbolt"
)

// Demo figures: the 2018 inspection of Hưng Yên (unit 33) found 89% of documents received
// and processed electronically and 45% exchanged entirely online (seed-figures.csv).
const (
	demoHungYenDocs       = 200
	demoElectronicShare   = 0.89
	demoFullyOnlineShare  = 0.45
	demoOtherDocsPerUnit  = 40
	demoSystem            = "lienthong/demo"
	demoLoadedKey         = "demo_loaded"
	demoAgenciesPerUnit   = 13 // 000.00.00.Xnn to 000.12.00.Xnn are in the demo catalog
	demoHoursToAcceptance = 30
	demoWorkers           = 16
)

// demoUnits are the seed provinces of the source articles besides Hưng Yên.
var demoUnits = []string{"01", "02", "36", "60"}

// demoLevel1 is the level-1 code of the agency identifiers of each demo unit (docs/domain.md,
// Identifiers: H01–H63 follow the provinces' names, not their unit codes).
var demoLevel1 = map[string]string{"01": "H26", "02": "H22", "33": "H31", "36": "H40", "60": "H11", "08": "H60", "37": "H42", "68": "H36"}

// demoMerged is the unit each retired seed province merged into on demoMergedOn: its agencies
// closed the day before, so its documents from then on are between the successor's agencies.
var demoMerged = map[string]string{"02": "08", "36": "37", "60": "68"}

const demoMergedOn = "2025-07-01"

func demoAgency(unit string, i int) string { return fmt.Sprintf("000.%02d.00.%s", i, demoLevel1[unit]) }

// LoadDemo adds, once, documents between the seed provinces' agencies: 200 documents of
// 2018 between agencies of Hưng Yên with exactly 89% accepted electronically and 45% sent
// without a paper copy and accepted electronically, and a few documents of 2025 in the other seed provinces
// (from 2025-07-01, those of a merged province are between the agencies of the province it merged into).
// It waits for the catalog, which may still be starting.
func (s *Service) LoadDemo(ctx context.Context) error {
	done := false
	if err := s.db.View(func(tx *bolt.Tx) error {
		done = tx.Bucket(bucketMeta).Get([]byte(demoLoadedKey)) != nil
		return nil
	}); err != nil || done {
		return err
	}
	ctx = platform.WithCaller(ctx, &platform.Caller{System: demoSystem, Role: platform.RoleAdmin})
	for {
		if _, err := s.refs.agencyUnits(ctx, []string{demoAgency("33", 0)}); err == nil {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	rng := rand.New(rand.NewPCG(2018, 33))
	keys := map[string]ed25519.PrivateKey{}
	keyOf := func(agency string) (string, ed25519.PrivateKey, error) {
		id := "demo-" + agency
		if k, ok := keys[agency]; ok {
			return id, k, nil
		}
		pub, priv, err := ed25519.GenerateKey(nil)
		if err != nil {
			return "", nil, err
		}
		if _, err := s.PutSigningKey(ctx, &docv1.PutSigningKeyRequest{AgencyCode: agency, KeyId: id,
			SigningKey: &docv1.SigningKey{Algorithm: AlgEd25519, PublicKey: pub}}); err != nil {
			return "", nil, err
		}
		keys[agency] = priv
		return id, priv, nil
	}
	// The documents and their statuses are drawn first (one seeded generator, so every
	// start draws the same), then sent by several workers, whose sends share commits.
	type job struct {
		d     *docv1.Document
		at    time.Time
		to    string
		steps []change
	}
	var jobs []job
	add := func(unit string, year, n int, electronic, online int) error {
		for i := 0; i < n; i++ {
			fi := rng.IntN(demoAgenciesPerUnit)
			ti := fi
			for ti == fi {
				ti = rng.IntN(demoAgenciesPerUnit)
			}
			day := time.Date(year, time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 8+rng.IntN(8), rng.IntN(60), 0, 0, vietnam)
			sender := unit
			if s := demoMerged[unit]; s != "" && day.Format("2006-01-02") >= demoMergedOn {
				sender = s
			}
			from, to := demoAgency(sender, fi), demoAgency(sender, ti)
			content := []byte(fmt.Sprintf("%%PDF-1.4\n%% Công văn số %d/UBND-VP, %s\n", i+1, day.Format("02/01/2006")))
			d := &docv1.Document{
				From: from, To: []string{to}, CodeNumber: fmt.Sprint(i + 1), CodeNotation: "UBND-VP",
				PromulgationDate: day.Format("2006-01-02"), DocumentType: "Công văn",
				Subject:     fmt.Sprintf("Về việc triển khai ứng dụng công nghệ thông tin năm %d (số %d)", year, i+1),
				Signer:      &docv1.Signer{Name: "Nguyễn Văn A", Position: "Chánh Văn phòng"},
				Attachments: []*docv1.Attachment{{Name: fmt.Sprintf("cv-%d.pdf", i+1), ContentType: "application/pdf", Content: content}},
			}
			if i >= online { // the others also went on paper (the edXML paper flag): not fully online
				d.Business = &docv1.Business{Reason: "Văn bản điện tử mới", Paper: true}
			}
			if i < online { // signed documents without a paper copy come first and are all accepted electronically
				sum := payloadHash(content)
				d.Attachments[0].Sha256, d.Attachments[0].Size = fmt.Sprintf("%x", sum), int64(len(content))
				id, priv, err := keyOf(from)
				if err != nil {
					return err
				}
				if err := Sign(d, id, priv); err != nil {
					return err
				}
			}
			at := day.Add(time.Duration(1+rng.IntN(2*demoHoursToAcceptance)) * time.Hour)
			j := job{d: d, at: day, to: to}
			switch {
			case i < electronic:
				j.steps = []change{{agency: to, status: stAccepted, at: at}, {agency: to, status: stProcessing, at: at.Add(24 * time.Hour)},
					{agency: to, status: stDone, at: at.Add(72 * time.Hour)}}
			case i%2 == 0: // received on paper
				j.steps = []change{{agency: to, status: stAccepted, at: at, paper: true}}
			default: // still waiting
			}
			jobs = append(jobs, j)
		}
		return nil
	}
	hy := demoHungYenDocs
	if err := add("33", 2018, hy, int(float64(hy)*demoElectronicShare+0.5), int(float64(hy)*demoFullyOnlineShare+0.5)); err != nil {
		return err
	}
	for _, u := range demoUnits {
		n := demoOtherDocsPerUnit
		if err := add(u, 2025, n, n*3/4, n/2); err != nil {
			return err
		}
	}
	run := func(j job) error {
		resp, err := s.send(ctx, j.d, sendOptions{at: j.at, system: demoSystem})
		if err != nil {
			return fmt.Errorf("demo document %s/%s: %w", j.d.GetCodeNumber(), j.d.GetCodeNotation(), err)
		}
		if resp.GetDuplicate() && resp.GetDocument().GetRecipients()[0].GetStatus() != stArrived {
			return nil // loaded by an earlier start that stopped midway
		}
		caller := &platform.Caller{System: j.to + "/qlvb", Role: platform.RoleAdmin}
		for _, st := range j.steps {
			if _, err := s.apply(ctx, caller, resp.GetId(), func(_ *storev1.StoredDocument) ([]change, error) { return []change{st}, nil }); err != nil {
				return fmt.Errorf("demo status: %w", err)
			}
		}
		return nil
	}
	queue := make(chan job)
	errs := make(chan error, demoWorkers)
	var wg sync.WaitGroup
	for w := 0; w < demoWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range queue {
				if err := run(j); err != nil {
					errs <- err
					for range queue { // drain
					}
					return
				}
			}
		}()
	}
feed:
	for _, j := range jobs {
		select {
		case queue <- j:
		case err := <-errs:
			close(queue)
			wg.Wait()
			return err
		case <-ctx.Done():
			break feed
		}
	}
	close(queue)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	err := s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucketMeta).Put([]byte(demoLoadedKey), []byte("1")) })
	if err == nil {
		s.lg.Info("demo documents loaded")
	}
	return err
}
