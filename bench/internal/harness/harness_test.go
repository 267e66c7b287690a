package harness

import (
	"slices"
	"testing"
)

func TestFnum(t *testing.T) {
	for _, tc := range []struct {
		x    float64
		want string
	}{
		{0, "0"},
		{1.234, "1.23"},
		{12.34, "12.3"},
		{123.4, "123"},
		{1234.5, "1,234"},
		{1234567, "1,234,567"},
	} {
		if got := Fnum(tc.x); got != tc.want {
			t.Errorf("Fnum(%v) = %q, want %q", tc.x, got, tc.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
	} {
		in := slices.Clone(tc.xs)
		if got := Median(tc.xs); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
		if !slices.Equal(in, tc.xs) {
			t.Errorf("Median changed its argument to %v", tc.xs)
		}
	}
}

func TestConcurrencies(t *testing.T) {
	got, err := Concurrencies("1, 64,256")
	if err != nil || !slices.Equal(got, []int{1, 64, 256}) {
		t.Errorf("Concurrencies = %v, %v", got, err)
	}
	for _, bad := range []string{"", "0", "1,x", "-3"} {
		if _, err := Concurrencies(bad); err == nil {
			t.Errorf("Concurrencies(%q) succeeded", bad)
		}
	}
}
