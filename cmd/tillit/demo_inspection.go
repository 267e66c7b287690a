package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/inspect"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// The demo's inventories. RU's 9M729 (SSC-8) ground-launched cruise missiles
// and their launchers, at sites in Kaliningrad and western Russia, as CSV;
// NATO's Aegis Ashore Mk 41 launchers and SM-3 interceptors in Poland and
// Romania, as JSON. Identifiers are made up.
const (
	demoInventoryRU = `region,site,id,category
Kaliningrad,Chernyakhovsk,L-0101,9M729.launcher
Kaliningrad,Chernyakhovsk,L-0102,9M729.launcher
Kaliningrad,Chernyakhovsk,M-1011,9M729.missile
Kaliningrad,Chernyakhovsk,M-1012,9M729.missile
Kaliningrad,Chernyakhovsk,M-1013,9M729.missile
Kaliningrad,Chernyakhovsk,M-1014,9M729.missile
Kaliningrad,Gvardeysk,M-1021,9M729.missile,depot=arsenal
Kaliningrad,Gvardeysk,M-1022,9M729.missile,depot=arsenal
Western Russia,Luga,L-0201,9M729.launcher
Western Russia,Luga,M-2011,9M729.missile
Western Russia,Luga,M-2012,9M729.missile
Western Russia,Shuya,L-0301,9M729.launcher
Western Russia,Shuya,L-0302,9M729.launcher
Western Russia,Shuya,M-3011,9M729.missile
Western Russia,Shuya,M-3012,9M729.missile
Western Russia,Shuya,M-3013,9M729.missile
`
	demoInventoryNATO = `{"regions": [
  {"name": "Poland", "sites": [{"name": "Redzikowo", "items": [
    {"id": "MK41-PL-1", "category": "Mk41.launcher"}, {"id": "MK41-PL-2", "category": "Mk41.launcher"},
    {"id": "MK41-PL-3", "category": "Mk41.launcher"},
    {"id": "SM3-PL-01", "category": "SM-3.interceptor"}, {"id": "SM3-PL-02", "category": "SM-3.interceptor"}]}]},
  {"name": "Romania", "sites": [{"name": "Deveselu", "items": [
    {"id": "MK41-RO-1", "category": "Mk41.launcher"}, {"id": "MK41-RO-2", "category": "Mk41.launcher"},
    {"id": "MK41-RO-3", "category": "Mk41.launcher"},
    {"id": "SM3-RO-01", "category": "SM-3.interceptor"}, {"id": "SM3-RO-02", "category": "SM-3.interceptor"}]}]}
]}`
	// demoUndeclared is the missile NATO's inspectors find that RU did not
	// declare at the site.
	demoUndeclared = "M-1999"
)

// inspection plays issue 4's scenario: RU and NATO declare their
// inventories as escrowed commitments; NATO requests an inspection of RU
// within the quotas; both run the beacon, which picks the site; RU opens it;
// NATO's findings include one undeclared missile; both log the computed
// report; and the OSCE verifies everything from its own copies of the logs.
func (d *demo) inspection(ctx context.Context) error {
	d.say("\n%s  escrowed declarations and an inspection (docs/arms-control.md)", d.stamp())
	parties := map[string]*arms{}
	for _, p := range []string{"NATO", "RU"} {
		a, err := newArms(ctx, localBackend{d.nodes[p]}, d.reg, filepath.Join(d.dir, p), d.clock.Now)
		if err != nil {
			return err
		}
		parties[p] = a
	}
	nato, ru := parties["NATO"], parties["RU"]

	ruDecl, err := d.declare(ctx, ru, "RU-inventory.csv", demoInventoryRU)
	if err != nil {
		return err
	}
	natoDecl, err := d.declare(ctx, nato, "NATO-inventory.json", demoInventoryNATO)
	if err != nil {
		return err
	}
	if err := d.delivered(ctx, "RU", ruDecl.Msg.Ref, "NATO"); err != nil {
		return err
	}

	// The request, within the quotas; a second one this year is over them.
	year := d.clock.Now().UTC().Year()
	m, _, err := nato.request(ctx, "RU", inspect.ScopeAny, "", year, "Vienna Document evaluation visit")
	if err != nil {
		return err
	}
	d.sent(m, "any declared site of RU, quota year %d", year)
	reqRef, _ := statement.ParseRef(m.Ref)
	_, _, err = nato.request(ctx, "RU", inspect.ScopeAny, "", year, "")
	d.check(strings.Contains(fmt.Sprint(err), "over quota"),
		"a second NATO request this year is refused before it is sent: %s", firstLine(err))
	if err := d.delivered(ctx, "NATO", m.Ref, "RU"); err != nil {
		return err
	}
	if err := d.quiet(ctx, 20*time.Hour); err != nil {
		return err
	}
	m, _, err = ru.reply(ctx, reqRef, inspect.Accept, "")
	if err != nil {
		return err
	}
	d.sent(m, "accepted, within the %s reply period", human(ru.rules.quotas.ReplyWithin))
	if err := d.delivered(ctx, "RU", m.Ref, "NATO"); err != nil {
		return err
	}

	// The beacon: both commit, then both reveal.
	for _, step := range []string{"commit", "reveal"} {
		for _, p := range []string{"NATO", "RU"} {
			a := parties[p]
			var m node.Message
			if step == "commit" {
				m, err = a.beaconCommit(ctx, reqRef)
			} else {
				m, err = a.beaconReveal(ctx, reqRef)
			}
			if err != nil {
				return err
			}
			d.sent(m, "%s's beacon %s", p, step)
			if err := d.delivered(ctx, p, m.Ref, otherParty(p)); err != nil {
				return err
			}
		}
	}

	// RU reveals what the selection needs and opens the site the seed chose.
	op, err := ru.open(ctx, reqRef)
	sent := op.sent()
	if err != nil {
		for _, r := range sent {
			d.sent(r.Msg, "%s", r.What)
		}
		return err
	}
	for _, r := range sent[:len(sent)-1] {
		d.sent(r.Msg, "%s", r.What)
	}
	d.say("                     the beacon's seed chooses %s/%s among RU's %d sites, each as likely as it has declared items", op.Chosen.Region, op.Chosen.Site, op.Candidates)
	d.sent(sent[len(sent)-1].Msg, "%s, with salts and a range proof", sent[len(sent)-1].What)
	if err := d.delivered(ctx, "RU", sent[len(sent)-1].Msg.Ref, "NATO"); err != nil {
		return err
	}
	d.say("                     NATO's inspectors visit the site")
	if err := d.quiet(ctx, 30*time.Hour); err != nil {
		return err
	}

	// NATO's inspectors see every declared item, and one more missile.
	in, err := nato.load(ctx, reqRef)
	if err != nil || in.opening == nil {
		return fmt.Errorf("NATO does not see RU's opening: %v", err)
	}
	_, site := in.opening.Opened()
	var seen []inspect.Observed
	for _, it := range site.Items {
		seen = append(seen, inspect.Observed{ID: it.ID, Category: it.Category})
	}
	seen = append(seen, inspect.Observed{ID: demoUndeclared, Category: "9M729.missile"})
	items, err := parseObserved("findings.csv", "", observedCSVText(seen))
	if err != nil {
		return err
	}
	m, _, err = nato.findings(ctx, reqRef, items)
	if err != nil {
		return err
	}
	d.sent(m, "%d items observed at %s/%s", len(items), op.Chosen.Region, op.Chosen.Site)
	if err := d.delivered(ctx, "NATO", m.Ref, "RU"); err != nil {
		return err
	}

	// Both compute the report and log it.
	var reports []*inspect.Report
	for _, p := range []string{"NATO", "RU"} {
		m, r, err := parties[p].report(ctx, reqRef)
		if err != nil {
			return err
		}
		d.sent(m, "%s's report, computed from the opening and the findings", p)
		if err := d.delivered(ctx, p, m.Ref, otherParty(p)); err != nil {
			return err
		}
		reports = append(reports, r)
	}
	for _, line := range describeReport(reports[0]) {
		d.say("                     %s", line)
	}
	r := reports[0]
	d.check(len(r.Items) == 1 && r.Items[0].Kind == inspect.Undeclared && r.Items[0].ID == demoUndeclared && len(r.Counts) == 1,
		"the report shows the undeclared missile %s and the missile count it changes, and nothing else", demoUndeclared)

	return d.observerVerifies(ctx, ruDecl, natoDecl, reqRef, op.Chosen)
}

// declare parses an inventory as 'tillit declare' does and declares it.
func (d *demo) declare(ctx context.Context, a *arms, name, inventory string) (*declared, error) {
	decl, err := parseInventory(name, "", []byte(inventory))
	if err != nil {
		return nil, err
	}
	res, err := a.declare(ctx, decl, 0, allParties)
	if err != nil {
		return nil, err
	}
	d.sent(res.Msg, "version %d: %d regions, %d sites, %d items (%s), as %d leaves",
		res.Commitment.Version, res.Regions, res.Sites, res.Items, describeCounts(res.Categories), res.Commitment.Size)
	fi, err := os.Stat(res.SecretFile)
	hidden := true
	for _, r := range decl.Regions {
		for _, s := range r.Sites {
			hidden = hidden && !strings.Contains(string(res.Msg.Body), s.Name)
			for _, it := range s.Items {
				hidden = hidden && !strings.Contains(string(res.Msg.Body), it.ID)
			}
		}
	}
	d.check(err == nil && fi.Mode().Perm() == 0o600 && hidden,
		"%s's secret (every item and salt) stays in its node directory (escrow/%s, mode 0600); the commitment names no site or item", a.party, filepath.Base(res.SecretFile))
	return res, nil
}

// quiet waits until every statement is receipted by all its recipients, so
// that no receipt deadline passes, and then moves the clock on.
func (d *demo) quiet(ctx context.Context, by time.Duration) error {
	ok := d.waitUntil(ctx, demoWait, func() bool {
		for _, n := range d.nodes {
			for _, p := range n.Status().Peers {
				if p.Behind > 0 {
					return false
				}
			}
		}
		return true
	})
	if !ok {
		return fmt.Errorf("the nodes did not receipt every statement within %s", demoWait)
	}
	d.jump(by)
	return nil
}

// sent prints a statement a party made, like send does.
func (d *demo) sent(m node.Message, format string, args ...any) {
	d.say("%s  %-4s → %-9s %-9s %-20s %s  %s", m.Time.Format("2006-01-02 15:04:05"), m.From, joinNames(m.To), m.Precedence, m.Type, shortRef(m.Ref), fmt.Sprintf(format, args...))
}

// delivered waits until party to has receipted (and so stored) ref, from
// from's log. With no ref it returns at once.
func (d *demo) delivered(ctx context.Context, from, ref, to string) error {
	if ref == "" {
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	if _, err := d.nodes[from].WaitReceipt(wctx, ref, to); err != nil {
		return fmt.Errorf("no receipt from %s for %s: %w", to, ref, err)
	}
	return nil
}

func otherParty(p string) string {
	if p == "NATO" {
		return "RU"
	}
	return "NATO"
}

func errOr(err error, ok string) string {
	if err == nil {
		return ok
	}
	return err.Error()
}

func firstLine(err error) string {
	if err == nil {
		return "no error"
	}
	s, _, _ := strings.Cut(err.Error(), "\n")
	return shorten(s, 110)
}

// sent returns the reveals open sent, nil-safe.
func (o *opened) sent() []*revealed {
	if o == nil {
		return nil
	}
	return o.Sent
}

// observerVerifies has the OSCE check both declarations and the whole
// inspection from its own copies of NATO's and RU's logs, reading the
// logged bytes, trusting neither party.
func (d *demo) observerVerifies(ctx context.Context, ruDecl, natoDecl *declared, reqRef statement.Ref, chosen inspect.Candidate) error {
	osce := d.nodes["OSCE"]
	synced := d.waitUntil(ctx, demoWait, func() bool {
		for _, p := range []string{"NATO", "RU"} {
			if osce.Mirror(p).Size() != d.nodes[p].Log().Size() {
				return false
			}
		}
		return true
	})
	d.say("\n%s  the OSCE verifies the declarations and the inspection from its mirrors of both logs", d.stamp())
	d.check(synced, "the OSCE's mirrors hold all of NATO's and RU's logs")
	v := newView(nodeLogSource{osce})
	t := &trace{check: func(ok bool, msg string) { d.check(ok, "%s", msg) }}
	for _, decl := range []*declared{ruDecl, natoDecl} {
		ref, _ := statement.ParseRef(decl.Msg.Ref)
		if err := verifyDeclaration(ctx, v, d.reg, ref, t); err != nil {
			return err
		}
	}
	in, err := loadInspection(ctx, v, d.reg, rulesOf(d.reg), reqRef, d.clock.Now(), t)
	if err != nil {
		return err
	}
	_, step := in.next()
	d.check(step == "" && len(in.reports) == 2, "the inspection is complete: no step is missing")

	// Hiding and binding, from the same copies.
	err = d.undisclosed(ctx, chosen)
	d.check(err == nil, "RU's log names no item of a site other than %s/%s (%v)", chosen.Region, chosen.Site, errOr(err, "unopened items stay hidden"))
	tampered := *in.opening
	tampered.Items = slices.Delete(slices.Clone(tampered.Items), 0, 1)
	err = escrow.VerifySiteOpening(in.commitment, &tampered)
	d.check(errors.Is(err, escrow.ErrItems) || errors.Is(err, escrow.ErrInconsistent),
		"the same opening with item %s left out is rejected: %s", in.opening.Items[0].ID, firstLine(errors.New(cleanEscrowError(err))))
	return nil
}

// undisclosed checks that no statement of RU's log names an item id of a
// site other than the chosen one.
func (d *demo) undisclosed(ctx context.Context, chosen inspect.Candidate) error {
	inv, err := parseInventory("RU-inventory.csv", "", []byte(demoInventoryRU))
	if err != nil {
		return err
	}
	size := d.nodes["RU"].Log().Size()
	entries, err := d.nodes["RU"].Log().Entries(ctx, 0, size)
	if err != nil {
		return err
	}
	for _, r := range inv.Regions {
		for _, s := range r.Sites {
			if r.Name == chosen.Region && s.Name == chosen.Site {
				continue
			}
			for _, it := range s.Items {
				for i, e := range entries {
					if strings.Contains(string(e), `"`+it.ID+`"`) {
						return fmt.Errorf("entry %d names %s", i, it.ID)
					}
				}
			}
		}
	}
	return nil
}
