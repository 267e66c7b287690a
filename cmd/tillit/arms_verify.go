package main

import (
	"context"
	"fmt"

	"github.com/tillit/tillit/escrow"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/statement"
)

// verifyDeclaration checks a declaration.commit statement and every reveal
// of it in v, as a third party holding the logs would (docs/spec/escrow.md):
// the commitment is well-formed and follows its previous version, and each
// reveal that refers to it verifies against it. Reveals made for an
// inspection are found through their reference to the commitment.
func verifyDeclaration(ctx context.Context, v *view, reg *regime.Regime, ref statement.Ref, t *trace) error {
	e, err := v.get(ctx, ref)
	if err != nil {
		t.ok(false, "declaration %s: %v", shortRef(ref.String()), err)
		return err
	}
	c, err := escrow.ParseCommitment(e.st.Body)
	switch {
	case e.st.Type != typeCommit:
		err = fmt.Errorf("a %s statement, not %s", e.st.Type, typeCommit)
	case err == nil && (c.Party != e.st.From || c.Regime != reg.ID):
		err = fmt.Errorf("a commitment of %s in regime %s, logged by %s in %s", c.Party, c.Regime, e.st.From, reg.ID)
	}
	if err != nil {
		t.ok(false, "declaration %s: %s", shortRef(ref.String()), cleanEscrowError(err))
		return fmt.Errorf("%s: %s", ref, cleanEscrowError(err))
	}
	t.ok(true, "declaration %s (its bytes hash to the reference): %s's commitment, version %d, %d leaves (items and padding)", shortRef(ref.String()), c.Party, c.Version, c.Size)
	if c.Version > 1 {
		verifyPrevious(ctx, v, c, t)
	}
	n := 0
	for _, typ := range []string{typeIndex, typeSites, typeRegion, typeSite, typeItem} {
		es, err := v.from(ctx, typ, c.Party, ref, false)
		if err != nil {
			return err
		}
		for _, e := range es {
			what, err := verifyReveal(c, e)
			if err != nil {
				t.ok(false, "%s %s: %s", typ, shortRef(e.String()), cleanEscrowError(err))
			} else {
				t.ok(true, "%s %s verifies against the commitment: %s", typ, shortRef(e.String()), what)
			}
			n++
		}
	}
	if n == 0 {
		t.info("no reveal of this declaration is known here yet")
	}
	return nil
}

// verifyPrevious checks that a commitment follows the version its prev
// names.
func verifyPrevious(ctx context.Context, v *view, c *escrow.Commitment, t *trace) {
	pref, err := statement.ParseRef(c.Prev)
	var pe *entry
	if err == nil {
		pe, err = v.get(ctx, pref)
	}
	var pc *escrow.Commitment
	if err == nil {
		if pc, err = escrow.ParseCommitment(pe.st.Body); err == nil {
			err = escrow.CheckSuccessor(pc, c, pref.String())
		}
	}
	if err != nil {
		t.ok(false, "previous version %s: %s", shortRef(c.Prev), cleanEscrowError(err))
		return
	}
	t.ok(true, "it is the version after %s (version %d)", shortRef(c.Prev), pc.Version)
}

// verifyReveal checks one reveal against the commitment and describes
// what it discloses.
func verifyReveal(c *escrow.Commitment, e *entry) (string, error) {
	switch e.st.Type {
	case typeIndex:
		r, err := escrow.ParseIndexReveal(e.st.Body)
		if err == nil {
			err = escrow.VerifyIndex(c, r)
		}
		if err != nil {
			return "", err
		}
		n := uint64(0)
		for _, x := range r.Regions {
			n += x.End - x.Start
		}
		return fmt.Sprintf("%d regions, %d items in all", len(r.Regions), n), nil
	case typeSites:
		r, err := escrow.ParseSitesReveal(e.st.Body)
		if err == nil {
			err = escrow.VerifySites(c, r)
		}
		if err != nil {
			return "", err
		}
		return fmt.Sprintf("region %s has %d sites", r.Region.Entry.Name, len(r.Sites)), nil
	case typeRegion:
		o, err := escrow.ParseRegionOpening(e.st.Body)
		if err == nil {
			err = escrow.VerifyRegionOpening(c, o)
		}
		if err != nil {
			return "", err
		}
		r := o.Opened()
		n := 0
		for _, s := range r.Sites {
			n += len(s.Items)
		}
		return fmt.Sprintf("region %s opened: %d sites, %d items, none left out", r.Name, len(r.Sites), n), nil
	case typeSite:
		o, err := escrow.ParseSiteOpening(e.st.Body)
		if err == nil {
			err = escrow.VerifySiteOpening(c, o)
		}
		if err != nil {
			return "", err
		}
		region, s := o.Opened()
		return fmt.Sprintf("site %s/%s opened: %d items, none left out", region, s.Name, len(s.Items)), nil
	case typeItem:
		o, err := escrow.ParseItemOpening(e.st.Body)
		if err == nil {
			err = escrow.VerifyItemOpening(c, o)
		}
		if err != nil {
			return "", err
		}
		region, site, it := o.Opened()
		return fmt.Sprintf("item %s (%s) is declared at %s/%s", it.ID, it.Category, region, site), nil
	}
	return "", fmt.Errorf("%s is not a reveal", e.st.Type)
}
