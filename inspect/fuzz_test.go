package inspect

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

// fuzzBody checks a parser on arbitrary input: it either fails with a
// *ParseError wrapping ErrMalformed or ErrInvalid, or succeeds, and then the
// encoding is the input without whitespace and parses to the same value.
func fuzzBody[T any](t *testing.T, data []byte, parse func([]byte) (*T, error), encode func(*T) ([]byte, error)) {
	v, err := parse(data)
	if err != nil {
		var pe *ParseError
		if v != nil || !errors.As(err, &pe) || !(errors.Is(err, ErrMalformed) || errors.Is(err, ErrInvalid)) {
			t.Fatalf("got %v, %v; want nil and a *ParseError wrapping ErrMalformed or ErrInvalid", v, err)
		}
		return
	}
	enc, err := encode(v)
	if err != nil {
		t.Fatalf("encoding an accepted body: %v", err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, data); err != nil {
		t.Fatalf("accepted invalid JSON: %v", err)
	}
	if !bytes.Equal(enc, compact.Bytes()) {
		t.Fatalf("parse → encode changed the bytes:\n%s\n%s", compact.Bytes(), enc)
	}
	v2, err := parse(enc)
	if err != nil || !reflect.DeepEqual(v, v2) {
		t.Fatalf("round trip: %v", err)
	}
}

func FuzzParseRequest(f *testing.F) {
	f.Add(mustEncode(f, sampleRequest()))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzBody(t, data, ParseRequest, (*Request).Encode)
	})
}

func FuzzParseReply(f *testing.F) {
	f.Add(mustEncode(f, sampleReply()))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzBody(t, data, ParseReply, (*Reply).Encode)
	})
}

func FuzzParseFindings(f *testing.F) {
	f.Add(mustEncode(f, sampleFindings()))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzBody(t, data, ParseFindings, (*Findings).Encode)
	})
}

func FuzzParseReport(f *testing.F) {
	f.Add(mustEncode(f, sampleReport()))
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzBody(t, data, ParseReport, (*Report).Encode)
	})
}

// FuzzCompare compares arbitrary accepted findings with a fixed opening: the
// report computed is valid, verifies, and no other report does.
func FuzzCompare(f *testing.F) {
	o := mustOpen(f, mustCommit(f, sampleDeclaration(), "report tests"), "Kaliningrad", "Chernyakhovsk")
	f.Add(mustEncode(f, findingsWith(honest...)))
	fref := fakeRef(testInspector, 3)
	f.Fuzz(func(t *testing.T, data []byte) {
		fd, err := ParseFindings(data)
		if err != nil {
			return
		}
		r, err := Compare(o, fd, fref)
		if err != nil {
			if !errors.Is(err, ErrMismatch) {
				t.Fatalf("Compare: %v", err)
			}
			return
		}
		b, err := r.Encode()
		if err != nil {
			t.Fatalf("computed report does not encode: %v", err)
		}
		if err := Verify(o, fd, fref, b); err != nil {
			t.Fatal(err)
		}
		if len(r.Items) > 0 {
			r.Items = r.Items[1:]
			b, _ = r.Encode()
			if err := Verify(o, fd, fref, b); !errors.Is(err, ErrReport) {
				t.Fatalf("a report with a dropped discrepancy: %v", err)
			}
		}
	})
}
