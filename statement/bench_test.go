package statement

import "testing"

func BenchmarkParse(b *testing.B) {
	entry := readTestdata(b, "valid/launch-notice.json")
	b.SetBytes(int64(len(entry)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(entry); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMaxSize(b *testing.B) {
	entry := readTestdata(b, "valid/max-size.json")
	b.SetBytes(int64(len(entry)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(entry); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	s, err := Parse(readTestdata(b, "valid/launch-notice.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(s.Raw())))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLeafHash(b *testing.B) {
	s, err := Parse(readTestdata(b, "valid/launch-notice.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(s.Raw())))
	b.ReportAllocs()
	for b.Loop() {
		s.LeafHash()
	}
}
