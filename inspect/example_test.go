package inspect_test

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/statement"
)

func ref(log string, index int64) statement.Ref {
	return statement.Ref{Log: log, Index: index, Hash: sha256.Sum256(fmt.Appendf(nil, "%s/%d", log, index))}
}

// The host opens the site the beacon chose; the inspectors report what they
// saw; both parties compute the same report.
func ExampleCompare() {
	d := &escrow.Declaration{Regions: []escrow.Region{{Name: "Kaliningrad", Sites: []escrow.Site{
		{Name: "Chernyakhovsk", Items: []escrow.Item{
			{ID: "L-0002", Category: "9M729.launcher"},
			{ID: "M-0001", Category: "9M729.missile"},
		}},
	}}}}
	secret, _ := escrow.Commit(d, escrow.Params{Regime: "inf-2026", Party: "RU", Version: 1})
	opening, _ := secret.OpenSite("Kaliningrad", "Chernyakhovsk")
	if err := escrow.VerifySiteOpening(secret.Commitment(), opening); err != nil {
		panic(err)
	}

	findings := &inspect.Findings{
		Request: inspect.Ref(ref("inf-2026/NATO", 0)),
		Beacon:  []inspect.Ref{inspect.Ref(ref("inf-2026/NATO", 2)), inspect.Ref(ref("inf-2026/RU", 4))},
		Region:  "Kaliningrad", Site: "Chernyakhovsk",
		Opening: inspect.Ref(ref("inf-2026/RU", 7)),
		Items: []inspect.Observed{
			{ID: "L-0002", Category: "9M729.launcher"},
			{ID: "M-0001", Category: "9M729.missile"},
			{ID: "M-0099", Category: "9M729.missile"},
		},
	}
	report, err := inspect.Compare(opening, findings, ref("inf-2026/NATO", 3))
	if err != nil {
		panic(err)
	}
	for _, d := range report.Items {
		fmt.Println(d)
	}
	for _, c := range report.Counts {
		fmt.Println(c)
	}
	body, _ := report.Encode()
	fmt.Println(inspect.Verify(opening, findings, ref("inf-2026/NATO", 3), body))
	// Output:
	// undeclared item "M-0099" (observed as "9M729.missile")
	// category "9M729.missile": 1 declared, 2 observed
	// <nil>
}

// A Vienna Document host accepts 3 inspections a year, at most 1 from any
// one party.
func ExampleCheckQuota() {
	q := inspect.Quotas{PerHostPerYear: 3, PerInspectorPerYear: 1, ReplyWithin: 48 * time.Hour}
	request := func(inspector string, index int64, at time.Time) inspect.Inspection {
		return inspect.Inspection{Request: inspect.Logged[inspect.Request]{
			Ref: ref("vd/"+inspector, index), Time: at,
			Body: inspect.Request{Inspector: inspector, Host: "RU", Scope: inspect.ScopeAny, Year: at.Year()},
		}}
	}
	first := request("DE", 0, time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))
	first.Reply = &inspect.Logged[inspect.Reply]{Time: first.Request.Time.Add(time.Hour),
		Body: inspect.Reply{Decision: inspect.Accept}}
	history := []inspect.Inspection{first}

	check := func(c inspect.Inspection) {
		if err := inspect.CheckQuota(q, history, c); errors.Is(err, inspect.ErrQuota) {
			fmt.Println("over quota")
		} else {
			fmt.Println("within quota", err)
		}
	}
	check(request("FR", 0, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)))
	check(request("DE", 1, time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)))
	check(request("DE", 1, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)))
	// Output:
	// within quota <nil>
	// over quota
	// within quota <nil>
}
