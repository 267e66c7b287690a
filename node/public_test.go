package node_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tillit/tillit/internal/localnet"
	"github.com/tillit/tillit/node"
	"github.com/tillit/tillit/regime"
	"github.com/tillit/tillit/tlog"
)

func TestPublicLogAccess(t *testing.T) {
	nw, err := localnet.New(t.TempDir(), "pub", []localnet.Party{{Name: "A"}, {Name: "B"}}, localnet.LogAccess(regime.AccessPublic))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	nw.Configs["A"].Peer.PublicListen = "127.0.0.1:0"
	a := startNode(t, nw, "A", node.Options{})
	b := startNode(t, nw, "B", node.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, from := range []*node.Node{a, b} {
		to := "B"
		if from == b {
			to = "A"
		}
		m, err := from.Send(ctx, node.SendRequest{Type: "message", To: []string{to}, Body: body(t, map[string]string{"lang": "en", "text": "public"})}, node.RoleOfficer)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := from.WaitReceipt(ctx, m.Ref, to); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "A's mirror of B", 10*time.Second, func() bool { return a.Mirror("B").Size() == 1 })
	// An outsider, with no certificate: everything it reads is signed.
	hc := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	base := "https://" + a.PublicAddr().String()
	for _, p := range []string{"A", "B"} {
		f, err := tlog.HTTPFetcher(base+"/logs/"+p+"/", hc)
		if err != nil {
			t.Fatal(err)
		}
		v := nw.Regime.Party(p).Verifier()
		c, err := tlog.VerifyLog(ctx, f, v.Name(), v, tlog.VerifyOptions{})
		if err != nil || c.Tree.N != 1 {
			t.Errorf("%s's log from A's public interface: %v, %v", p, c.Tree, err)
		}
	}
	resp, err := hc.Post(base+"/mirror/push", "application/octet-stream", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("push to the public interface: %s, want 405", resp.Status)
	}
	if b.PublicAddr() != nil {
		t.Error("B has a public interface it was not configured with")
	}
}

func TestPublicListenNeedsPublicRegime(t *testing.T) {
	nw, err := localnet.New(t.TempDir(), "priv", []localnet.Party{{Name: "A"}, {Name: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nw.Close)
	nw.Configs["A"].Peer.PublicListen = "127.0.0.1:0"
	n, err := nw.Open(context.Background(), "A", node.Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if err := n.Start(context.Background()); !errors.Is(err, node.ErrConfig) {
		t.Fatalf("Start with public_listen under log_access parties: %v, want ErrConfig", err)
	}
}
