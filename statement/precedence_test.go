package statement

import (
	"errors"
	"testing"
)

func TestPrecedence(t *testing.T) {
	if !(Flash > Immediate && Immediate > Priority && Priority > Routine) {
		t.Error("precedences are not ordered FLASH > IMMEDIATE > PRIORITY > ROUTINE")
	}
	for _, tt := range []struct {
		p    Precedence
		name string
	}{
		{Flash, "FLASH"}, {Immediate, "IMMEDIATE"}, {Priority, "PRIORITY"}, {Routine, "ROUTINE"},
	} {
		if got := tt.p.String(); got != tt.name {
			t.Errorf("%d.String() = %q, want %q", tt.p, got, tt.name)
		}
		p, err := ParsePrecedence(tt.name)
		if err != nil || p != tt.p {
			t.Errorf("ParsePrecedence(%q) = %v, %v", tt.name, p, err)
		}
		var u Precedence
		text, err := tt.p.MarshalText()
		if err != nil || u.UnmarshalText(text) != nil || u != tt.p {
			t.Errorf("text round trip of %v gave %v", tt.p, u)
		}
	}
	for _, s := range []string{"", "flash", "Flash", "URGENT", " FLASH", "FLASH "} {
		if _, err := ParsePrecedence(s); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParsePrecedence(%q) = %v, want ErrInvalid", s, err)
		}
	}
	for _, p := range []Precedence{0, 5, 255} {
		if p.Valid() {
			t.Errorf("Precedence(%d).Valid() = true", p)
		}
		if _, err := p.MarshalText(); err == nil {
			t.Errorf("Precedence(%d).MarshalText() succeeded", p)
		}
	}
	if got := Precedence(7).String(); got != "Precedence(7)" {
		t.Errorf("Precedence(7).String() = %q", got)
	}
}
