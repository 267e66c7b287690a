package escrow_test

import (
	"encoding/json"
	"fmt"

	"github.com/tillit/tillit/escrow"
)

// A party commits to an inventory, publishes the commitment, and later opens
// one site; a third party verifies the opening from its JSON.
func Example() {
	inventory := []byte("region,site,id,category\n" +
		"Kaliningrad,Chernyakhovsk,M-0001,9M729.missile\n" +
		"Kaliningrad,Chernyakhovsk,L-0002,9M729.launcher\n" +
		"Orenburg,Yasny,M-0030,9M729.missile\n")
	d, err := escrow.ParseCSV(inventory)
	if err != nil {
		panic(err)
	}
	secret, err := escrow.Commit(d, escrow.Params{Regime: "inf-2026", Party: "RU", Version: 1})
	if err != nil {
		panic(err)
	}
	published, _ := json.Marshal(secret.Commitment())

	opening, err := secret.OpenSite("Kaliningrad", "Chernyakhovsk")
	if err != nil {
		panic(err)
	}
	body, _ := json.Marshal(opening)

	// The verifier has only the two statement bodies.
	c, err := escrow.ParseCommitment(published)
	if err != nil {
		panic(err)
	}
	o, err := escrow.ParseSiteOpening(body)
	if err != nil {
		panic(err)
	}
	if err := escrow.VerifySiteOpening(c, o); err != nil {
		panic(err)
	}
	region, site := o.Opened()
	fmt.Println(c.Size, region, site.Name, len(site.Items))
	// Output: 4 Kaliningrad Chernyakhovsk 2
}

// The beacon: both parties commit, then reveal; the seed picks a region.
func ExampleResolveBeacon() {
	const context = "inf-2026/inspection/7"
	us, _ := escrow.NewBeaconReveal(nil)
	ru, _ := escrow.NewBeaconReveal(nil)
	// Each commit is logged before either reveal.
	usCommit, ruCommit := us.Commit(context, "US"), ru.Commit(context, "RU")

	out, err := escrow.ResolveBeacon(context,
		escrow.Contribution{Party: "US", Commit: usCommit, Reveal: us},
		escrow.Contribution{Party: "RU", Commit: ruCommit, Reveal: nil}) // RU never revealed
	if err != nil {
		panic(err)
	}
	fmt.Println(out.OK(), out.Faults[0].Party)

	out, _ = escrow.ResolveBeacon(context,
		escrow.Contribution{Party: "US", Commit: usCommit, Reveal: us},
		escrow.Contribution{Party: "RU", Commit: ruCommit, Reveal: ru})
	regions := []string{"Chelyabinsk", "Kaliningrad", "Orenburg"}
	i, _ := escrow.NewStream(out.Seed, "region").Uniform(uint64(len(regions)))
	fmt.Println(out.OK(), i < 3)
	// Output:
	// false RU
	// true true
}
