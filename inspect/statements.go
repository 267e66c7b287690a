package inspect

import (
	"fmt"
	"strings"

	"github.com/tillit/tillit/statement"
)

// This file binds bodies to their statements (spec §Statements): the type,
// the sender, the recipients, the time and the refs of a statement must agree
// with its body and with the request it belongs to.

// RequestFromStatement parses an inspection.request statement, stored at
// index in its sender's log, and checks that its body agrees with it: the
// sender is the inspector, the host is a recipient, the declaration is in the
// host's log of the same regime, the year is the UTC year of the statement's
// time, and refs[0] is the declaration. st must come from statement.Parse.
func RequestFromStatement(st *statement.Statement, index int64) (*Logged[Request], error) {
	if err := checkType(st, TypeRequest); err != nil {
		return nil, err
	}
	r, err := ParseRequest(st.Body)
	if err != nil {
		return nil, err
	}
	ref := st.Ref(index)
	switch {
	case st.From != r.Inspector:
		return nil, mismatch(ref, "sent by %q, but the inspector is %q", st.From, r.Inspector)
	case !st.AddressedTo(r.Host):
		return nil, mismatch(ref, "not addressed to the host %q", r.Host)
	case r.Declaration.Log != st.Regime+"/"+r.Host:
		return nil, mismatch(ref, "declaration %s is not in the host's log %s/%s", r.Declaration, st.Regime, r.Host)
	case r.Year != st.Time.UTC().Year():
		return nil, mismatch(ref, "year %d, but made in %d", r.Year, st.Time.UTC().Year())
	}
	if err := checkRefs(st, ref, r.Declaration); err != nil {
		return nil, err
	}
	return &Logged[Request]{Ref: ref, Time: st.Time.UTC(), Body: *r}, nil
}

// ReplyFromStatement parses an inspection.reply statement, stored at index in
// its sender's log, and checks it against the request it answers: the sender
// is the host, in the request's regime, the inspector is a recipient, and
// both the body's request and refs[0] are the request.
func ReplyFromStatement(st *statement.Statement, index int64, req *Logged[Request]) (*Logged[Reply], error) {
	if err := checkType(st, TypeReply); err != nil {
		return nil, err
	}
	r, err := ParseReply(st.Body)
	if err != nil {
		return nil, err
	}
	ref := st.Ref(index)
	if err := checkParties(st, ref, req, req.Body.Host, req.Body.Inspector); err != nil {
		return nil, err
	}
	if Ref(req.Ref) != r.Request {
		return nil, mismatch(ref, "answers %s, not the request %s", r.Request, req.Ref)
	}
	if err := checkRefs(st, ref, r.Request); err != nil {
		return nil, err
	}
	return &Logged[Reply]{Ref: ref, Time: st.Time.UTC(), Body: *r}, nil
}

// FindingsFromStatement parses an inspection.findings statement, stored at
// index in its sender's log, and checks it against the request: the sender
// is the inspector, the host is a recipient, the opening is in the host's
// log, each beacon reveal is in a different one of the two parties' logs,
// and refs begins with the request, the opening and the beacon reveals.
func FindingsFromStatement(st *statement.Statement, index int64, req *Logged[Request]) (*Logged[Findings], error) {
	if err := checkType(st, TypeFindings); err != nil {
		return nil, err
	}
	f, err := ParseFindings(st.Body)
	if err != nil {
		return nil, err
	}
	ref := st.Ref(index)
	if err := checkParties(st, ref, req, req.Body.Inspector, req.Body.Host); err != nil {
		return nil, err
	}
	if Ref(req.Ref) != f.Request {
		return nil, mismatch(ref, "findings of %s, not of the request %s", f.Request, req.Ref)
	}
	hostLog, inspectorLog := st.Regime+"/"+req.Body.Host, st.Regime+"/"+req.Body.Inspector
	if f.Opening.Log != hostLog {
		return nil, mismatch(ref, "opening %s is not in the host's log %s", f.Opening, hostLog)
	}
	for i, b := range f.Beacon {
		if b.Log != hostLog && b.Log != inspectorLog {
			return nil, mismatch(ref, "beacon[%d] %s is in neither party's log", i, b)
		}
		if i == 1 && b.Log == f.Beacon[0].Log {
			return nil, mismatch(ref, "both beacon reveals are in %s", b.Log)
		}
	}
	if err := checkRefs(st, ref, append([]Ref{f.Request, f.Opening}, f.Beacon...)...); err != nil {
		return nil, err
	}
	return &Logged[Findings]{Ref: ref, Time: st.Time.UTC(), Body: *f}, nil
}

// ReportFromStatement parses an inspection.report statement, stored at index
// in its sender's log, and checks it against the request: the sender is the
// inspector or the host, the other is a recipient, the findings are in the
// inspector's log and the opening in the host's, and refs begins with the
// request, the findings and the opening. It does not check the
// discrepancies: Verify does.
func ReportFromStatement(st *statement.Statement, index int64, req *Logged[Request]) (*Logged[Report], error) {
	if err := checkType(st, TypeReport); err != nil {
		return nil, err
	}
	r, err := ParseReport(st.Body)
	if err != nil {
		return nil, err
	}
	ref := st.Ref(index)
	if st.From != req.Body.Host && st.From != req.Body.Inspector {
		return nil, mismatch(ref, "sent by %q, neither the inspector nor the host", st.From)
	}
	other := req.Body.Host
	if st.From == req.Body.Host {
		other = req.Body.Inspector
	}
	if err := checkParties(st, ref, req, st.From, other); err != nil {
		return nil, err
	}
	if Ref(req.Ref) != r.Request {
		return nil, mismatch(ref, "report of %s, not of the request %s", r.Request, req.Ref)
	}
	if want := st.Regime + "/" + req.Body.Inspector; r.Findings.Log != want {
		return nil, mismatch(ref, "findings %s are not in the inspector's log %s", r.Findings, want)
	}
	if want := st.Regime + "/" + req.Body.Host; r.Opening.Log != want {
		return nil, mismatch(ref, "opening %s is not in the host's log %s", r.Opening, want)
	}
	if err := checkRefs(st, ref, r.Request, r.Findings, r.Opening); err != nil {
		return nil, err
	}
	return &Logged[Report]{Ref: ref, Time: st.Time.UTC(), Body: *r}, nil
}

// CheckFindings checks that findings are of the site the beacon chose: their
// seed is the verdict's, they reference two beacon reveals, or under the
// forfeit fallback one in the deciding party's log, and their region and
// site are those of chosen, the result of Select. Errors wrap ErrState if the
// beacon gave no seed, or ErrMismatch.
func CheckFindings(f *Findings, v *BeaconVerdict, chosen Candidate) error {
	seed, err := v.seed()
	if err != nil {
		return fmt.Errorf("findings: %w", err)
	}
	if f.Seed != seed {
		return fmt.Errorf("findings: %w: seed %s, the beacon gave %s", ErrMismatch, f.Seed, seed)
	}
	switch {
	case v.Decider == "" && len(f.Beacon) != 2:
		return fmt.Errorf("findings: %w: %d beacon reveals referenced, the seed came from 2", ErrMismatch, len(f.Beacon))
	case v.Decider != "" && (len(f.Beacon) != 1 || !strings.HasSuffix(f.Beacon[0].Log, "/"+v.Decider)):
		return fmt.Errorf("findings: %w: the seed came from %s's reveal alone; reference exactly that", ErrMismatch, v.Decider)
	}
	if f.Region != chosen.Region || f.Site != chosen.Site {
		return fmt.Errorf("findings: %w: of region %q, site %q, but the beacon chose region %q, site %q",
			ErrMismatch, f.Region, f.Site, chosen.Region, chosen.Site)
	}
	return nil
}

func checkType(st *statement.Statement, want string) error {
	if st.Type != want {
		return fmt.Errorf("statement of type %q, want %q: %w", st.Type, want, ErrMismatch)
	}
	return nil
}

// checkParties checks that st is in the request's regime, sent by from and
// addressed to to.
func checkParties(st *statement.Statement, ref statement.Ref, req *Logged[Request], from, to string) error {
	switch {
	case st.Regime+"/"+req.Body.Inspector != req.Ref.Log:
		return mismatch(ref, "regime %q, but the request %s is in another", st.Regime, req.Ref)
	case st.From != from:
		return mismatch(ref, "sent by %q, want %q", st.From, from)
	case !st.AddressedTo(to):
		return mismatch(ref, "not addressed to %q", to)
	}
	return nil
}

// checkRefs checks that the statement's refs begin with want.
func checkRefs(st *statement.Statement, ref statement.Ref, want ...Ref) error {
	if len(st.Refs) < len(want) {
		return mismatch(ref, "%d refs, want at least %d: the body's references in order", len(st.Refs), len(want))
	}
	for i, w := range want {
		if Ref(st.Refs[i]) != w {
			return mismatch(ref, "refs[%d] is %s, but the body names %s", i, st.Refs[i], w)
		}
	}
	return nil
}

func mismatch(ref statement.Ref, format string, args ...any) error {
	return fmt.Errorf("statement %s: %s: %w", ref, fmt.Sprintf(format, args...), ErrMismatch)
}
