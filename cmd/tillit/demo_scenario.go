package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/tillit/tillit/internal/link/faultproxy"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
)

// demoWait bounds each wait of the scenario for the network.
const demoWait = 20 * time.Second

// scenario plays the January 2022 statements.
func (d *demo) scenario(ctx context.Context) error {
	d.say("\n%s  consultations on missile deployments (answer due within 48 h)", d.stamp())
	req, err := d.send(ctx, "NATO", []string{"RU"}, "consultation.request", "", map[string]any{
		"subject": "deployment of short- and intermediate-range missiles in Europe",
		"text":    "NATO proposes talks on reciprocal limits and transparency for land-based missile deployments, and on military communication channels to avoid dangerous accidents.",
	})
	if err != nil {
		return err
	}
	if err := d.receipted(ctx, "NATO", req, "RU"); err != nil {
		return err
	}
	d.jump(20 * time.Hour)
	reply, err := d.ack(ctx, "RU", req, "Russia is ready to discuss intermediate-range missile deployments together with its own proposals of December 2021.")
	if err != nil {
		return err
	}
	d.settled(ctx, req, reply, regime.Acknowledged, false)

	d.say("\n%s  exercise notice, 42 days ahead (Vienna Document)", d.stamp())
	ex, err := d.send(ctx, "NATO", []string{"*"}, "exercise.notice", "", map[string]any{
		"name": "Cold Response 2022", "start": "2022-03-14T00:00:00Z", "end": "2022-04-01T00:00:00Z",
		"area":   map[string]any{"name": "Norway", "center": map[string]any{"lat": 68.4, "lon": 17.4}, "radius_km": 400},
		"troops": 30000, "tanks": 220, "aircraft": 200,
	})
	if err != nil {
		return err
	}
	for _, p := range []string{"RU", "OSCE"} {
		if err := d.receipted(ctx, "NATO", ex, p); err != nil {
			return err
		}
	}
	for _, p := range []string{"RU", "OSCE"} {
		if _, err := d.ack(ctx, p, ex, "Notice received."); err != nil {
			return err
		}
	}
	d.settled(ctx, ex, "", regime.Acknowledged, false)

	d.say("\n%s  FLASH incident report, acknowledgment due within 5 minutes", d.stamp())
	inc, err := d.send(ctx, "RU", []string{"NATO"}, "incident.report", "", map[string]any{
		"time": d.clock.Now().Add(-4 * time.Minute).UTC().Format(time.RFC3339), "position": map[string]any{"lat": 55.3, "lon": 19.9},
		"units": []string{"Su-27 (RU)", "P-8A (NATO)"}, "description": "Unplanned close approach of a fighter to a patrol aircraft over the Baltic Sea; both aircraft returned to base.",
	})
	if err != nil {
		return err
	}
	if err := d.receipted(ctx, "RU", inc, "NATO"); err != nil {
		return err
	}
	incAck, err := d.ack(ctx, "NATO", inc, "Received. Our patrol aircraft has left the area.")
	if err != nil {
		return err
	}
	d.settled(ctx, inc, incAck, regime.Acknowledged, false)

	d.say("\n%s  a FLASH report that is not acknowledged", d.stamp())
	missed, err := d.send(ctx, "NATO", []string{"RU"}, "incident.report", "", map[string]any{
		"time": d.clock.Now().Add(-2 * time.Minute).UTC().Format(time.RFC3339), "position": map[string]any{"lat": 59.9, "lon": 24.1},
		"units": []string{"RU frigate", "NATO minesweeper"}, "description": "Fire-control radar illumination of a minesweeper in the Gulf of Finland.",
	})
	if err != nil {
		return err
	}
	if err := d.receipted(ctx, "NATO", missed, "RU"); err != nil {
		return err
	}
	d.jump(6 * time.Minute)
	d.settled(ctx, missed, "", regime.Overdue, false)
	alarm := d.waitUntil(ctx, demoWait, func() bool {
		for _, a := range d.nodes["NATO"].Status().Alarms {
			if strings.Contains(a, "overdue") {
				return true
			}
		}
		return false
	})
	d.check(alarm, "NATO's node raised an overdue alarm (API event, metric tillit_overdue_statements)")
	late, err := d.ack(ctx, "RU", missed, "Late: the radar was a navigation radar.")
	if err != nil {
		return err
	}
	d.settled(ctx, missed, late, regime.Acknowledged, true)

	if err := d.inspection(ctx); err != nil {
		return err
	}
	return d.linkCut(ctx)
}

// linkCut cuts the NATO–RU link both ways, sends during the cut, heals it
// and checks that nothing was lost.
func (d *demo) linkCut(ctx context.Context) error {
	d.say("\n%s  the NATO–RU link is cut (both directions black-holed)", d.stamp())
	for _, p := range d.proxies {
		p.SetMode(faultproxy.Blackhole)
		p.CutAll()
	}
	var refs []string
	for i, item := range []string{"9M729-0117", "9M729-0118", "9M729-0119"} {
		m, err := d.send(ctx, "RU", []string{"NATO"}, "deployment.change", "", map[string]any{
			"changed_at": d.clock.Now().Add(-time.Duration(24*(i+1)) * time.Hour).UTC().Format(time.RFC3339),
			"items":      []map[string]any{{"id": item, "category": "9M729 missile", "from_site": "Kapustin Yar", "to_site": "Shuya"}},
		})
		if err != nil {
			return err
		}
		refs = append(refs, m)
	}
	down := d.waitUntil(ctx, demoWait, func() bool { return d.peer("RU", "NATO").Link != node.LinkUp })
	p := d.peer("RU", "NATO")
	d.check(down, "RU's node reports the link to NATO as %s (%s); %d entries not receipted", p.Link, shorten(p.LastError, 70), p.Behind)
	d.say("%s  the link is restored", d.stamp())
	for _, p := range d.proxies {
		p.SetMode(faultproxy.Pass)
	}
	for _, ref := range refs {
		if err := d.receipted(ctx, "RU", ref, "NATO"); err != nil {
			return err
		}
	}
	up := d.waitUntil(ctx, demoWait, func() bool { return d.peer("RU", "NATO").Link == node.LinkUp })
	d.check(up, "the link is up again")
	inbox := d.nodes["NATO"].Inbox(node.Query{Type: "deployment.change", Limit: 1000})
	count := map[string]int{}
	for _, m := range inbox {
		count[m.Ref]++
	}
	ok := len(inbox) == len(refs)
	for _, r := range refs {
		ok = ok && count[r] == 1
	}
	d.check(ok, "nothing lost: NATO's inbox holds each of the %d statements sent during the cut exactly once", len(refs))
	return nil
}

func (d *demo) peer(of, peer string) node.PeerStatus {
	for _, p := range d.nodes[of].Status().Peers {
		if p.Party == peer {
			return p
		}
	}
	return node.PeerStatus{}
}

// stamp is the simulated time, for the transcript.
func (d *demo) stamp() string { return d.clock.Now().Format("2006-01-02 15:04:05") }

func (d *demo) jump(by time.Duration) {
	d.clock.advance(by)
	d.say("%s  (simulated clock: %s pass)", d.stamp(), human(by))
}

// send sends a statement from party and prints it.
func (d *demo) send(ctx context.Context, from string, to []string, typ, prec string, body any) (string, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return "", err
	}
	start := time.Now()
	m, err := d.nodes[from].Send(ctx, node.SendRequest{Type: typ, To: to, Precedence: prec, Body: b}, node.RoleOfficer)
	if err != nil {
		return "", fmt.Errorf("%s couldn't send %s: %w", from, typ, err)
	}
	d.say("%s  %-4s → %-9s %-9s %-20s %s  (durable in %s)", m.Time.Format("2006-01-02 15:04:05"), from, joinNames(m.To), m.Precedence, typ, shortRef(m.Ref), time.Since(start).Round(100*time.Microsecond))
	return m.Ref, nil
}

// ack acknowledges ref at party and prints it.
func (d *demo) ack(ctx context.Context, party, ref, text string) (string, error) {
	m, err := d.nodes[party].Ack(ctx, node.AckRequest{Ref: ref, Text: text})
	if err != nil {
		return "", fmt.Errorf("%s couldn't acknowledge %s: %w", party, ref, err)
	}
	d.say("%s  %-4s → %-9s %-9s %-20s %s  re %s", m.Time.Format("2006-01-02 15:04:05"), party, joinNames(m.To), m.Precedence, m.Type, shortRef(m.Ref), shortRef(ref))
	return m.Ref, nil
}

// receipted waits for party's receipt of ref (from sender's log) and
// prints it.
func (d *demo) receipted(ctx context.Context, sender, ref, party string) error {
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, demoWait)
	defer cancel()
	t, err := d.nodes[sender].WaitReceipt(wctx, ref, party)
	if err != nil {
		return fmt.Errorf("no receipt from %s for %s: %w", party, ref, err)
	}
	d.say("%s        receipted by %s (its cosignature on %s's checkpoint; %s after asking)", t.Format("2006-01-02 15:04:05"), party, sender, time.Since(start).Round(time.Millisecond))
	return nil
}

// settled waits until every node that tracks ref has the wanted state for
// it and checks that they agree on every recipient's verdict.
func (d *demo) settled(ctx context.Context, ref, reply string, want regime.State, late bool) {
	var msgs map[string]node.Message
	ok := d.waitUntil(ctx, demoWait, func() bool {
		msgs = map[string]node.Message{}
		var first []byte
		for _, name := range d.nw.Parties {
			m, err := d.nodes[name].Message(ref)
			if err != nil || m.State != want {
				return false
			}
			msgs[name] = m
			b, _ := json.Marshal(m.Recipients)
			if first == nil {
				first = b
			} else if string(b) != string(first) {
				return false // a node has not learnt every cosignature yet
			}
		}
		return true
	})
	m := msgs["NATO"]
	if !ok {
		var states []string
		for _, name := range d.nw.Parties {
			got, err := d.nodes[name].Message(ref)
			states = append(states, fmt.Sprintf("%s: %v %v", name, got.State, err))
		}
		d.check(false, "%s: want %v at every node, have %v", shortRef(ref), want, states)
		return
	}
	for _, r := range m.Recipients {
		v := r.Verdict
		switch want {
		case regime.Acknowledged:
			lateNote := "in time"
			if v.AckLate {
				lateNote = fmt.Sprintf("LATE (due %s)", v.AckDeadline.Format("15:04:05"))
			}
			d.say("                     verdict for %s: acknowledged at %s, %s", r.Party, v.Ack.Format("2006-01-02 15:04:05"), lateNote)
		case regime.Overdue:
			d.say("                     verdict for %s: OVERDUE: acknowledgment was due at %s", r.Party, v.AckDeadline.Format("2006-01-02 15:04:05"))
		}
	}
	agree := true
	for _, other := range msgs {
		a, _ := json.Marshal(other.Recipients)
		b, _ := json.Marshal(m.Recipients)
		agree = agree && string(a) == string(b)
	}
	lateOK := true
	for _, r := range m.Recipients {
		if want == regime.Acknowledged && r.Verdict.AckLate != late {
			lateOK = false
		}
	}
	what := map[regime.State]string{regime.Acknowledged: "acknowledged", regime.Overdue: "overdue"}[want]
	if late {
		what += " (recorded as late)"
	} else if want == regime.Acknowledged {
		what += " in time"
	}
	d.check(agree && lateOK, "%s is %s, and NATO, RU and OSCE compute the same verdicts from their logs", shortRef(ref), what)
}

func joinNames(to []string) string {
	if len(to) == 1 && to[0] == "*" {
		return "all"
	}
	s := ""
	for i, t := range to {
		if i > 0 {
			s += ","
		}
		s += t
	}
	return s
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func human(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d%time.Minute == 0:
		return fmt.Sprintf("%d minutes", d/time.Minute)
	}
	return d.String()
}
