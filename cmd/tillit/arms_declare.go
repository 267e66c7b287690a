package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/statement"
)

// Statement types of declarations (the regime defines them; docs/spec/escrow.md
// the bodies).
const (
	typeCommit = "declaration.commit"
	typeIndex  = "declaration.index"
	typeSites  = "declaration.sites"
	typeRegion = "declaration.region"
	typeSite   = "declaration.site"
	typeItem   = "declaration.item"

	typeBeaconCommit = "beacon.commit"
	typeBeaconReveal = "beacon.reveal"
)

// allParties addresses a statement to every other party.
var allParties = []string{statement.All}

// declared is the result of declare.
type declared struct {
	Msg        node.Message
	Commitment *escrow.Commitment
	SecretFile string
	Regions    int
	Sites      int
	Items      int
	Categories map[string]int
}

// declare commits to d as the party's next declaration version, stores the
// secret in the node directory and sends the declaration.commit statement,
// referring to the previous version's.
func (a *arms) declare(ctx context.Context, d *escrow.Declaration, quantum uint64, to []string) (*declared, error) {
	v := newView(backendSource{a.b})
	prev, prevC, err := a.latestCommit(ctx, v, a.party)
	if err != nil {
		return nil, err
	}
	p := escrow.Params{Regime: a.reg.ID, Party: a.party, Version: 1, Quantum: quantum}
	var refs []statement.Ref
	if prev != nil {
		p.Version, p.Prev = prevC.Version+1, prev.ref.String()
		refs = []statement.Ref{prev.ref}
	}
	path := secretPath(a.dir, a.reg.ID, p.Version)
	if _, err := os.Stat(path); err == nil {
		return nil, withHint(fmt.Errorf("%s already holds a secret for version %d, but the log has no version %d commitment", path, p.Version, p.Version),
			"an earlier declare may have failed after storing it: check 'tillit inbox --outbox --type declaration.commit'; move the file away only if no version "+fmt.Sprint(p.Version)+" was logged")
	}
	secret, err := escrow.Commit(d, p)
	if err != nil {
		return nil, fmt.Errorf("couldn't commit to the declaration: %s", cleanEscrowError(err))
	}
	body, err := json.Marshal(secret.Commitment())
	if err != nil {
		return nil, err
	}
	stored, err := json.Marshal(secret)
	if err != nil {
		return nil, err
	}
	if err := writeSecret(path, stored); err != nil {
		return nil, err
	}
	m, err := a.send(ctx, typeCommit, to, refs, body, "")
	if err != nil {
		if nothingStored(err) {
			os.Remove(path)
			return nil, err
		}
		return nil, withHint(err, fmt.Sprintf("the secret is kept in %s: check 'tillit inbox --outbox --type declaration.commit' for a version %d commitment; if there is none, move the file away and declare again", path, p.Version))
	}
	out := &declared{Msg: m, Commitment: secret.Commitment(), SecretFile: path, Categories: categoryCounts(secret.Declaration())}
	out.Regions, out.Sites, out.Items = declarationStats(secret.Declaration())
	return out, nil
}

// latestCommit returns party's newest declaration.commit that v holds and
// its commitment, or nil if there is none.
func (a *arms) latestCommit(ctx context.Context, v *view, party string) (*entry, *escrow.Commitment, error) {
	es, err := v.from(ctx, typeCommit, party, statement.Ref{}, false)
	if err != nil {
		return nil, nil, err
	}
	var best *entry
	var bestC *escrow.Commitment
	for _, e := range es {
		c, err := escrow.ParseCommitment(e.st.Body)
		if err != nil || c.Party != party || c.Regime != a.reg.ID {
			continue
		}
		if bestC == nil || c.Version > bestC.Version {
			best, bestC = e, c
		}
	}
	return best, bestC, nil
}

// ownSecret loads the secret of the party's declaration version (0: the
// newest) and the statement that published its commitment.
func (a *arms) ownSecret(ctx context.Context, v *view, version uint64) (*escrow.Secret, *entry, error) {
	es, err := v.from(ctx, typeCommit, a.party, statement.Ref{}, false)
	if err != nil {
		return nil, nil, err
	}
	var pub *entry
	var c *escrow.Commitment
	for _, e := range es {
		ec, err := escrow.ParseCommitment(e.st.Body)
		if err != nil || ec.Party != a.party || ec.Regime != a.reg.ID {
			continue
		}
		if (version == 0 && (c == nil || ec.Version > c.Version)) || (version != 0 && ec.Version == version && c == nil) {
			pub, c = e, ec
		}
	}
	if pub == nil {
		if version != 0 {
			return nil, nil, withHint(fmt.Errorf("%s has logged no declaration version %d", a.party, version), "list them with 'tillit inbox --outbox --type declaration.commit'")
		}
		return nil, nil, withHint(fmt.Errorf("%s has declared nothing yet", a.party), "declare an inventory first: tillit declare FILE")
	}
	path := secretPath(a.dir, a.reg.ID, c.Version)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, withHint(fmt.Errorf("no secret for declaration version %d: %s does not exist", c.Version, path),
			"reveals are made from the secret kept by the node that declared: run this with --node set to that node's directory")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("couldn't read the secret: %w", err)
	}
	s, err := escrow.ParseSecret(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %s", path, cleanEscrowError(err))
	}
	if body, _ := json.Marshal(s.Commitment()); string(body) != string(pub.st.Body) {
		return nil, nil, fmt.Errorf("%s is not the secret of the commitment logged at %s", path, pub.ref)
	}
	return s, pub, nil
}

// What a reveal discloses (escrow spec §Reveals).
const (
	revealIndex  = "index"
	revealSites  = "sites"
	revealRegion = "region"
	revealSite   = "site"
	revealItem   = "item"
)

// revealed is the result of reveal.
type revealed struct {
	Msg     node.Message
	Commit  statement.Ref
	Version uint64
	What    string // like "region Kaliningrad: 2 sites, 5 items"
}

// reveal sends a reveal of the party's declaration (version 0: the newest)
// referring to its commitment and then to extra refs (an inspection
// request). kind is one of the reveal constants; for sites and region arg is
// the region, for site the region and site as "REGION/SITE", for item the id.
func (a *arms) reveal(ctx context.Context, version uint64, kind, arg string, to []string, extra []statement.Ref) (*revealed, error) {
	v := newView(backendSource{a.b})
	s, pub, err := a.ownSecret(ctx, v, version)
	if err != nil {
		return nil, err
	}
	body, what, tooLarge, err := revealBody(s, kind, arg)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	m, err := a.send(ctx, "declaration."+kind, to, append([]statement.Ref{pub.ref}, extra...), b, tooLarge)
	if err != nil {
		return nil, err
	}
	return &revealed{Msg: m, Commit: pub.ref, Version: s.Commitment().Version, What: what}, nil
}

// revealBody builds a reveal from the secret, describes it, and says what
// to do if it is too large for a statement.
func revealBody(s *escrow.Secret, kind, arg string) (body any, what, tooLarge string, err error) {
	d := s.Declaration()
	notFound := func(err error) error {
		return withHint(fmt.Errorf("%s", cleanEscrowError(err)), "the declaration has: "+declarationOutline(d))
	}
	switch kind {
	case revealIndex:
		r := s.RevealIndex()
		n := uint64(0)
		for _, e := range r.Regions {
			n += e.End - e.Start
		}
		return r, fmt.Sprintf("index: %d regions, %d items", len(r.Regions), n),
			"the index lists every region: declare fewer, larger regions in a new version", nil
	case revealSites:
		r, err := s.RevealSites(arg)
		if err != nil {
			return nil, "", "", notFound(err)
		}
		return r, fmt.Sprintf("sites of region %s: %d sites", arg, len(r.Sites)),
			"a site list names every site of the region: split the region into smaller ones in a new declaration version", nil
	case revealRegion:
		o, err := s.OpenRegion(arg)
		if err != nil {
			return nil, "", "", notFound(err)
		}
		r := o.Opened()
		n := 0
		var names []string
		for _, site := range r.Sites {
			n += len(site.Items)
			names = append(names, arg+"/"+site.Name)
		}
		return o, fmt.Sprintf("region %s: %d sites, %d items", arg, len(r.Sites), n),
			fmt.Sprintf("open the region site by site instead, with 'tillit reveal site REGION/SITE' for each of its %d sites: %s", len(names), strings.Join(quoteArgs(names), ", ")), nil
	case revealSite:
		region, site, ok := splitSite(d, arg)
		if !ok {
			return nil, "", "", withHint(fmt.Errorf("no site %q in the declaration", arg), "give REGION/SITE; the declaration has: "+declarationOutline(d))
		}
		o, err := s.OpenSite(region, site)
		if err != nil {
			return nil, "", "", notFound(err)
		}
		return o, fmt.Sprintf("site %s/%s: %d items", region, site, len(o.Items)),
			"a site opening must fit in one statement: split the site into smaller sites in a new declaration version", nil
	case revealItem:
		o, err := s.OpenItem(arg)
		if err != nil {
			return nil, "", "", withHint(fmt.Errorf("%s", cleanEscrowError(err)), "give the id of a declared item")
		}
		region, site, it := o.Opened()
		return o, fmt.Sprintf("item %s (%s) at %s/%s", it.ID, it.Category, region, site), "", nil
	}
	return nil, "", "", fmt.Errorf("unknown reveal %q: want index, sites, region, site or item", kind)
}

// splitSite finds the region and site that "REGION/SITE" names in d; names
// may themselves contain '/', so every split is tried.
func splitSite(d *escrow.Declaration, arg string) (region, site string, ok bool) {
	for i := 0; i < len(arg); i++ {
		if arg[i] != '/' {
			continue
		}
		for _, r := range d.Regions {
			if r.Name != arg[:i] {
				continue
			}
			for _, s := range r.Sites {
				if s.Name == arg[i+1:] {
					return r.Name, s.Name, true
				}
			}
		}
	}
	return "", "", false
}

// declarationOutline lists regions and sites, shortened.
func declarationOutline(d *escrow.Declaration) string {
	var parts []string
	for _, r := range d.Regions {
		var sites []string
		for _, s := range r.Sites {
			sites = append(sites, s.Name)
		}
		parts = append(parts, fmt.Sprintf("%s (%s)", r.Name, strings.Join(sites, ", ")))
	}
	return shorten(strings.Join(parts, "; "), 300)
}

func quoteArgs(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		if strings.ContainsAny(s, " \t'\"") {
			s = "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
		out[i] = s
	}
	return out
}
