package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tillit/tillit/internal/link"
	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/statement"
	"github.com/tillit/tillit/tlog"
)

// audit verifies every log from every node's point of view, finality, an
// offline proof, and that a tampered copy is caught.
func (d *demo) audit(ctx context.Context) {
	d.say("\n%s  verification, trusting only the keys in the signed regime", d.stamp())
	// Let every mirror catch up with its log.
	synced := d.waitUntil(ctx, demoWait, func() bool {
		for _, owner := range d.nw.Parties {
			size := d.nodes[owner].Log().Size()
			for _, viewer := range d.nw.Parties {
				if viewer != owner && d.nodes[viewer].Mirror(owner).Size() != size {
					return false
				}
			}
		}
		return true
	})
	d.check(synced, "every node mirrors every other party's whole log")
	for _, viewer := range d.nw.Parties {
		var parts []string
		ok := true
		for _, server := range d.nw.Parties {
			if server == viewer {
				continue
			}
			for _, owner := range d.nw.Parties {
				if owner == viewer {
					continue
				}
				c, err := d.verifyFrom(ctx, viewer, server, owner)
				want := d.nodes[owner].Log().Latest()
				if err != nil || c.Tree != want.Tree {
					ok = false
					parts = append(parts, fmt.Sprintf("%s's log from %s: %v", owner, server, err))
					continue
				}
				parts = append(parts, fmt.Sprintf("%s's log from %s (%d)", owner, server, c.Tree.N))
			}
		}
		d.check(ok, "%s fetched over pinned TLS and recomputed %s; each statement conforms, each root is the owner's", viewer, strings.Join(parts, ", "))
	}
	for _, owner := range d.nw.Parties {
		final := d.waitUntil(ctx, demoWait, func() bool {
			st := d.nodes[owner].Status()
			return st.Log.Final == st.Log.Size
		})
		st := d.nodes[owner].Status()
		note, err := d.nodes[owner].FinalCheckpoint(ctx)
		ok := final && err == nil
		if ok {
			pol, perr := d.reg.ReceiptPolicy(owner)
			if perr == nil {
				ok, _, perr = pol.Satisfied(note)
			}
			ok = ok && perr == nil
		}
		d.check(ok, "%s's newest checkpoint (size %d) is final: cosigned by %s, and the witness policy accepts the note", owner, st.Log.Final, strings.Join(st.Log.FinalCosigners, " and "))
	}
	d.proofAndTamper(ctx)
}

// verifyFrom has viewer fetch owner's log as served by server, over the
// peer interface with viewer's pinned TLS identity, and verify all of it.
func (d *demo) verifyFrom(ctx context.Context, viewer, server, owner string) (tlog.Checkpoint, error) {
	id, err := link.LoadIdentity(filepath.Join(d.dir, viewer, localnet.TLSKeyFile))
	if err != nil {
		return tlog.Checkpoint{}, err
	}
	pin := link.PinOf(d.reg.Party(server).TLSKey)
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: link.ClientConfig(id, pin), ForceAttemptHTTP2: false,
		TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	defer hc.CloseIdleConnections()
	f, err := tlog.HTTPFetcher(fmt.Sprintf("https://%s/logs/%s/", d.nodes[server].PeerAddr(), owner), hc)
	if err != nil {
		return tlog.Checkpoint{}, err
	}
	v := d.reg.Party(owner).Verifier()
	return tlog.VerifyLog(ctx, f, v.Name(), v, tlog.VerifyOptions{Entry: func(_ int64, e []byte) error {
		s, err := statement.Parse(e)
		if err != nil {
			return err
		}
		return d.reg.CheckStatement(s)
	}})
}

// proofAndTamper checks an offline proof of RU's FLASH report and that an
// altered export of RU's log is rejected.
func (d *demo) proofAndTamper(ctx context.Context) {
	ru := d.nodes["RU"].Log()
	var flash int64 = -1
	for i := int64(0); i < ru.Size(); i++ {
		e, err := ru.Entry(ctx, i)
		if err != nil {
			break
		}
		if s, err := statement.Parse(e); err == nil && s.Precedence == statement.Flash {
			flash = i
			break
		}
	}
	e, err := ru.Entry(ctx, flash)
	if err == nil {
		var p *tlog.Proof
		if p, err = ru.Proof(ctx, flash); err == nil {
			if p, err = tlog.ParseProof(p.Marshal()); err == nil {
				v := d.reg.Party("RU").Verifier()
				s, _ := statement.Parse(e)
				_, _, err = tlog.VerifyProof(p, s.LeafHash(), v.Name(), v)
			}
		}
	}
	d.check(err == nil, "a tlog-proof of RU's FLASH incident report (entry %d) verifies offline%s", flash, errSuffix(err))
	exp := filepath.Join(d.dir, "export", "RU")
	_, err = ru.Export(ctx, exp, nil)
	var data []byte
	bundle := ""
	if err == nil {
		bundle = filepath.Join(exp, "tile", "entries", "000.p", fmt.Sprint(ru.Latest().Tree.N))
		data, err = os.ReadFile(bundle)
	}
	if err == nil && !bytes.Contains(data, []byte("Su-27")) {
		err = errors.New("the export does not hold the incident report")
	}
	if err == nil {
		err = os.WriteFile(bundle, bytes.Replace(data, []byte("Su-27"), []byte("Su-30"), 1), 0o644)
	}
	if err != nil {
		d.check(false, "tamper test: %v", err)
		return
	}
	v := d.reg.Party("RU").Verifier()
	_, err = tlog.VerifyLog(ctx, tlog.DirFetcher(exp), v.Name(), v, tlog.VerifyOptions{})
	var fault *tlog.Fault
	d.check(errors.As(err, &fault), "an export of RU's log with one word changed is rejected: %v", err)
}

func errSuffix(err error) string {
	if err != nil {
		return ": " + err.Error()
	}
	return ""
}
