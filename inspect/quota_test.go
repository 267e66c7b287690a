package inspect

import (
	"math/rand/v2"
	"testing"
	"time"
)

// insp returns an inspection of testHost by inspector, requested at at,
// stored at index in the inspector's log. decision "" means no reply;
// otherwise the reply is logged at replyAt.
func insp(inspector string, index int64, at string, decision Decision, replyAt string) Inspection {
	return inspOf(inspector, testHost, index, at, decision, replyAt)
}

func inspOf(inspector, host string, index int64, at string, decision Decision, replyAt string) Inspection {
	t := date(at)
	in := Inspection{Request: Logged[Request]{Ref: fakeRef(inspector, index), Time: t,
		Body: Request{Inspector: inspector, Host: host, Declaration: Ref(fakeRef(host, 0)), Scope: ScopeAny, Year: t.UTC().Year()}}}
	if decision != "" {
		in.Reply = &Logged[Reply]{Ref: fakeRef(host, index+100), Time: date(replyAt),
			Body: Reply{Request: Ref(in.Request.Ref), Decision: decision, Reason: "r"}}
	}
	return in
}

var (
	vienna    = Quotas{PerHostPerYear: 3, PerInspectorPerYear: 1, ReplyWithin: 48 * time.Hour}
	newSTART  = Quotas{PerHostPerYear: 18, PerInspectorPerYear: 18, ReplyWithin: 24 * time.Hour}
	deemedRef = BeaconVerdict{Outcome: BeaconRefusedByHost, Due: date("2026-03-05T00:00:00Z")}
)

func TestCheckQuota(t *testing.T) {
	cand := func(inspector, at string) Inspection { return insp(inspector, 50, at, "", "") }
	deemed := func(in Inspection) Inspection { v := deemedRef; in.Beacon = &v; return in }
	tests := []struct {
		name      string
		q         Quotas
		history   []Inspection
		candidate Inspection
		want      error
	}{
		{"first", vienna, nil, cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"same inspector accepted", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-10T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"same inspector pending", vienna,
			[]Inspection{insp("NATO", 1, "2026-02-28T12:00:00Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"pending at the exact deadline still counts", vienna,
			[]Inspection{insp("NATO", 1, "2026-02-27T00:00:00Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"overdue does not count", vienna,
			[]Inspection{insp("NATO", 1, "2026-02-26T23:59:59.999Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"refused does not count", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-10T00:00:00Z", Refuse, "2026-01-10T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"late acceptance does not count", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-12T00:00:00.001Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"refusal logged after the candidate: still pending then", vienna,
			[]Inspection{insp("NATO", 1, "2026-02-28T12:00:00Z", Refuse, "2026-03-01T00:00:00.001Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"deemed refused does not count", vienna,
			[]Inspection{deemed(insp("NATO", 1, "2026-03-01T00:00:00Z", Accept, "2026-03-01T01:00:00Z"))},
			cand("NATO", "2026-03-06T00:00:00Z"), nil},
		{"deemed refused counts until the reveal deadline", vienna,
			[]Inspection{deemed(insp("NATO", 1, "2026-03-01T00:00:00Z", Accept, "2026-03-01T01:00:00Z"))},
			cand("NATO", "2026-03-04T00:00:00Z"), ErrQuota},
		{"forfeited by inspector still counts", vienna,
			[]Inspection{func() Inspection {
				in := insp("NATO", 1, "2026-03-01T00:00:00Z", Accept, "2026-03-01T01:00:00Z")
				in.Beacon = &BeaconVerdict{Outcome: BeaconForfeitedByInspector, Due: date("2026-03-05T00:00:00Z")}
				return in
			}()},
			cand("NATO", "2026-03-06T00:00:00Z"), ErrQuota},
		{"previous year, last millisecond", vienna,
			[]Inspection{insp("NATO", 1, "2025-12-31T23:59:59.999Z", Accept, "2026-01-01T00:00:00Z")},
			cand("NATO", "2026-01-01T00:00:00Z"), nil},
		{"same year, first millisecond", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-01T00:00:00Z", Accept, "2026-01-01T00:00:01Z")},
			cand("NATO", "2026-12-31T23:59:59.999Z"), ErrQuota},
		{"year of the UTC time, not the local one", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-01T01:00:00+03:00", Accept, "2026-01-01T02:00:00+03:00")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"candidate local time in the next UTC year", vienna,
			[]Inspection{insp("NATO", 1, "2026-06-01T00:00:00Z", Accept, "2026-06-01T01:00:00Z")},
			func() Inspection {
				c := cand("NATO", "2027-01-01T01:00:00+03:00") // 2026-12-31T22:00Z
				c.Request.Body.Year = 2026
				return c
			}(), ErrQuota},
		{"other inspectors within the host quota", vienna,
			[]Inspection{insp("US", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-10T01:00:00Z"),
				insp("UK", 1, "2026-01-11T00:00:00Z", Accept, "2026-01-11T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"host quota full", vienna,
			[]Inspection{insp("US", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-10T01:00:00Z"),
				insp("UK", 1, "2026-01-11T00:00:00Z", Accept, "2026-01-11T01:00:00Z"),
				insp("FR", 1, "2026-02-27T00:00:00Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"other hosts do not count", vienna,
			[]Inspection{inspOf("NATO", "BY", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-10T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"later requests do not count", vienna,
			[]Inspection{insp("NATO", 60, "2026-03-02T00:00:00Z", Accept, "2026-03-02T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"the candidate itself does not count", vienna,
			[]Inspection{cand("NATO", "2026-03-01T00:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"same time: lower index first", vienna,
			[]Inspection{insp("NATO", 49, "2026-03-01T00:00:00Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"same time: higher index after", vienna,
			[]Inspection{insp("NATO", 51, "2026-03-01T00:00:00Z", "", "")},
			cand("NATO", "2026-03-01T00:00:00Z"), nil},
		{"an over-quota request never counts", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-10T00:00:00Z", Accept, "2026-01-10T01:00:00Z"),
				insp("NATO", 2, "2026-01-20T00:00:00Z", Accept, "2026-01-20T01:00:00Z"), // over NATO's quota, accepted anyway
				insp("US", 1, "2026-02-01T00:00:00Z", Accept, "2026-02-01T01:00:00Z")},
			cand("UK", "2026-03-01T00:00:00Z"), nil},
		{"a refused request frees its place", vienna,
			[]Inspection{insp("NATO", 1, "2026-01-10T00:00:00Z", Refuse, "2026-01-10T01:00:00Z"),
				insp("NATO", 2, "2026-01-20T00:00:00Z", Accept, "2026-01-20T01:00:00Z")},
			cand("NATO", "2026-03-01T00:00:00Z"), ErrQuota},
		{"New START: 17 accepted", newSTART, acceptedN(17), cand("US", "2026-12-01T00:00:00Z"), nil},
		{"New START: 18 accepted", newSTART, acceptedN(18), cand("US", "2026-12-01T00:00:00Z"), ErrQuota},
		{"year mismatch", vienna, nil, func() Inspection {
			c := cand("NATO", "2026-03-01T00:00:00Z")
			c.Request.Body.Year = 2025
			return c
		}(), ErrInvalid},
		{"bad quotas", Quotas{PerHostPerYear: 1, PerInspectorPerYear: 2, ReplyWithin: time.Hour}, nil, cand("NATO", "2026-03-01T00:00:00Z"), ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantErr(t, CheckQuota(tt.q, tt.history, tt.candidate), tt.want)
			// The order of the history does not matter.
			r := rand.New(rand.NewPCG(1, 2))
			for range 5 {
				h := append([]Inspection(nil), tt.history...)
				r.Shuffle(len(h), func(i, j int) { h[i], h[j] = h[j], h[i] })
				wantErr(t, CheckQuota(tt.q, h, tt.candidate), tt.want)
			}
		})
	}
}

func acceptedN(n int) []Inspection {
	var h []Inspection
	for i := range n {
		at := time.Date(2026, 1, 1+i, 0, 0, 0, 0, time.UTC)
		h = append(h, insp("US", int64(i), at.Format(time.RFC3339), Accept, at.Add(time.Hour).Format(time.RFC3339)))
	}
	return h
}

func TestQuotasValidate(t *testing.T) {
	for _, q := range []Quotas{
		{0, 0, time.Hour}, {3, 0, time.Hour}, {3, 4, time.Hour}, {3, 1, 0}, {3, 1, -time.Hour}, {-1, -1, time.Hour},
	} {
		wantErr(t, q.Validate(), ErrInvalid)
	}
	wantErr(t, vienna.Validate(), nil)
	wantErr(t, newSTART.Validate(), nil)
}
