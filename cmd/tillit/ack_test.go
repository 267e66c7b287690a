package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

func TestAck(t *testing.T) {
	n := newTestNode(t)
	code, stdout, stderr := n.run(t, "ack", receivedRef, "--text", "Notification received.")
	if code != 0 {
		t.Fatalf("code %d\n%s", code, stderr)
	}
	c := n.lastCall("Ack")
	if c.Ack.Ref != receivedRef || c.Ack.Text != "Notification received." {
		t.Errorf("request %+v", c.Ack)
	}
	lines := strings.Split(strings.TrimSuffix(stdout, "\n"), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "nato-russia-2022/NATO/0#") ||
		lines[1] != "acknowledged RU/41#bo0g0sSO: ack PRIORITY from NATO to RU: pending, next deadline 2022-01-16 10:05:00Z" {
		t.Errorf("output:\n%s", stdout)
	}

	code, stdout, _ = n.run(t, "ack", receivedRef, "--json")
	var m struct{ Refs []string }
	if err := json.Unmarshal([]byte(stdout), &m); code != 0 || err != nil || len(m.Refs) != 1 || m.Refs[0] != receivedRef {
		t.Errorf("--json: %d %v\n%s", code, err, stdout)
	}
}

func TestAckErrors(t *testing.T) {
	n := newTestNode(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"no ref", []string{"ack"}, 2, []string{"Usage: tillit ack"}},
		{"unknown", []string{"ack", "nato-russia-2022/RU/9#AAAA"}, 1,
			[]string{"tillit: 404 No such statement: no received statement nato-russia-2022/RU/9#AAAA\n"}},
		{"analyst", []string{"ack", receivedRef, "--token-file", filepath.Join(n.dir, "tokens", "analyst.token")}, 1,
			[]string{"tillit: 403 Not allowed for this token's role: role analyst may not acknowledge statements: only officer tokens may (POST /api/v1/ack)\n",
				"hint: use a token whose role may do this"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := n.run(t, tt.args...)
			if code != tt.code || stdout != "" {
				t.Errorf("code %d, want %d; stdout %q", code, tt.code, stdout)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr)
				}
			}
		})
	}
}
