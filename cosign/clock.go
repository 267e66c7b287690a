package cosign

import (
	"errors"
	"fmt"
	"time"
)

// ErrClockSkew is wrapped when a cosignature's timestamp is further from the
// verifier's clock than the tolerance allows.
var ErrClockSkew = errors.New("cosignature timestamp too far from our clock")

// DefaultClockTolerance is the clock difference tillit accepts between a
// cosigner and itself when the cosignature has just been made.
const DefaultClockTolerance = 5 * time.Minute

// CheckClock returns an error wrapping ErrClockSkew unless ts is within
// tolerance of now, in either direction. Use it for a cosignature that was
// just returned (a receipt): a timestamp far in the past or the future means
// the cosigner's clock is off, and its timestamps can't be relied upon. A
// negative tolerance counts as zero.
func CheckClock(ts, now time.Time, tolerance time.Duration) error {
	tolerance = max(tolerance, 0)
	switch {
	case ts.After(now.Add(tolerance)):
		return fmt.Errorf("%w: %s is %v ahead of %s (tolerance %v)", ErrClockSkew, ts.UTC().Format(time.RFC3339), ts.Sub(now), now.UTC().Format(time.RFC3339), tolerance)
	case ts.Before(now.Add(-tolerance)):
		return fmt.Errorf("%w: %s is %v behind %s (tolerance %v)", ErrClockSkew, ts.UTC().Format(time.RFC3339), now.Sub(ts), now.UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}

// CheckNotFuture returns an error wrapping ErrClockSkew if ts is more than
// tolerance after now. Use it for cosignatures of any age, such as those on
// an old checkpoint: c2sp.org/tlog-cosignature, "Format", lets verifiers
// reject timestamps in the future. A negative tolerance counts as zero.
func CheckNotFuture(ts, now time.Time, tolerance time.Duration) error {
	tolerance = max(tolerance, 0)
	if ts.After(now.Add(tolerance)) {
		return fmt.Errorf("%w: %s is %v ahead of %s (tolerance %v)", ErrClockSkew, ts.UTC().Format(time.RFC3339), ts.Sub(now), now.UTC().Format(time.RFC3339), tolerance)
	}
	return nil
}
