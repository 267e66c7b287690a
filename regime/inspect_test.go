package regime

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheckInspection(t *testing.T) {
	r := example(t) // 3 per host per year, at most 1 from the same party
	jan := time.Date(2022, 1, 20, 0, 0, 0, 0, time.UTC)
	newYear := time.Date(2023, 1, 1, 1, 0, 0, 0, time.FixedZone("MSK", 3*3600)) // 2022-12-31T22:00Z
	ins := func(host, inspector string, at time.Time) Inspection {
		return Inspection{Host: host, Inspector: inspector, Time: at}
	}
	tests := []struct {
		name string
		req  Inspection
		past []Inspection
		want string // substring of the error, or "" for allowed
	}{
		{"first of the year", ins("RU", "NATO", jan), nil, ""},
		{"second from the same party", ins("RU", "NATO", jan), []Inspection{ins("RU", "NATO", jan.AddDate(0, -1, 0).AddDate(0, 0, 15))},
			"NATO has already inspected RU 1 time in 2022, the most one party may (per_inspector_per_year = 1)"},
		{"last year's do not count", ins("RU", "NATO", jan), []Inspection{ins("RU", "NATO", jan.AddDate(-1, 0, 0))}, ""},
		{"year of the request in UTC", ins("RU", "NATO", newYear), []Inspection{ins("RU", "NATO", jan)}, "in 2022"},
		{"other hosts do not count", ins("RU", "NATO", jan), []Inspection{ins("NATO", "RU", jan), ins("NATO", "RU", jan), ins("NATO", "RU", jan)}, ""},
		{"host quota", ins("RU", "NATO", jan), []Inspection{ins("RU", "X", jan), ins("RU", "Y", jan), ins("RU", "Z", jan)},
			"RU has already accepted 3 inspections in 2022, its quota (per_host_per_year = 3)"},
		{"self", ins("RU", "RU", jan), nil, "RU cannot inspect itself"},
		{"observer inspects", ins("RU", "OSCE", jan), nil, "inspector OSCE is an observer"},
		{"observer hosts", ins("OSCE", "RU", jan), nil, "host OSCE is an observer"},
		{"unknown party", ins("RU", "UN", jan), nil, `inspector "UN" is not a party`},
	}
	for _, tt := range tests {
		err := r.CheckInspection(tt.req, tt.past)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.want != "" && (!errors.Is(err, ErrQuota) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.want)
		}
	}
	if err := mustParse(t, testTOML()).CheckInspection(ins("A", "B", jan), nil); !errors.Is(err, ErrQuota) {
		t.Errorf("regime without inspections: %v", err)
	}
}
