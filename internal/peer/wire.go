package peer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tillit/tillit/tlog"
)

// ErrMalformed is wrapped by every error for a malformed push body.
var ErrMalformed = errors.New("malformed push")

// Push is the body of a push request (docs/spec/peer.md, "push"): the
// pushed log's origin, the index of the first entry carried, the signed
// checkpoint whose size ends the upload, and the entries in between.
type Push struct {
	Origin     string
	Start      int64
	Checkpoint []byte
	Entries    [][]byte
}

// maxNote bounds the checkpoint note in a push.
const maxNote = tlog.MaxCheckpointSize

// Marshal encodes p.
func (p *Push) Marshal() ([]byte, error) {
	if len(p.Origin) == 0 || len(p.Origin) > 0xffff || len(p.Checkpoint) > maxNote || p.Start < 0 {
		return nil, fmt.Errorf("%w: bad origin, start or checkpoint size", ErrMalformed)
	}
	n := 2 + len(p.Origin) + 8 + 4 + len(p.Checkpoint)
	for _, e := range p.Entries {
		n += 2 + len(e)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint16(b, uint16(len(p.Origin)))
	b = append(b, p.Origin...)
	b = binary.BigEndian.AppendUint64(b, uint64(p.Start))
	b = binary.BigEndian.AppendUint32(b, uint32(len(p.Checkpoint)))
	b = append(b, p.Checkpoint...)
	for _, e := range p.Entries {
		var err error
		if b, err = tlog.AppendBundleEntry(b, e); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return b, nil
}

// ParsePush decodes a push body. Entries alias b.
func ParsePush(b []byte) (*Push, error) {
	bad := func(what string) (*Push, error) { return nil, fmt.Errorf("%w: %s", ErrMalformed, what) }
	if len(b) < 2 {
		return bad("truncated origin length")
	}
	n := int(binary.BigEndian.Uint16(b))
	b = b[2:]
	if n == 0 || len(b) < n+8+4 {
		return bad("truncated header")
	}
	p := &Push{Origin: string(b[:n])}
	b = b[n:]
	start := binary.BigEndian.Uint64(b)
	if start > 1<<62 {
		return bad("start index out of range")
	}
	p.Start = int64(start)
	b = b[8:]
	cn := binary.BigEndian.Uint32(b)
	b = b[4:]
	if cn > maxNote || uint32(len(b)) < cn {
		return bad("checkpoint too large or truncated")
	}
	p.Checkpoint = b[:cn]
	b = b[cn:]
	for len(b) > 0 {
		if len(b) < 2 {
			return bad("truncated entry length")
		}
		l := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+l {
			return bad(fmt.Sprintf("entry %d truncated", p.Start+int64(len(p.Entries))))
		}
		p.Entries = append(p.Entries, b[2:2+l])
		b = b[2+l:]
	}
	return p, nil
}

// MirrorInfo is the body of a 409 answer: the size the mirror holds, which is
// where the next push must start (c2sp.org/tlog-mirror, text/x.tlog.mirror-info,
// with the pending size equal to the next entry and an empty ticket).
type MirrorInfo struct{ Size int64 }

// MirrorInfoType is the content type of a MirrorInfo body.
const MirrorInfoType = "text/x.tlog.mirror-info"

func (m MirrorInfo) String() string {
	return fmt.Sprintf("%d\n%d\n\n", m.Size, m.Size)
}

// ParseMirrorInfo parses a text/x.tlog.mirror-info body: the pending size,
// the next entry and a ticket, one per line. It returns the next entry.
func ParseMirrorInfo(b []byte) (MirrorInfo, error) {
	lines := strings.Split(string(b), "\n")
	if len(lines) != 4 || lines[3] != "" {
		return MirrorInfo{}, fmt.Errorf("%w: mirror info must be three lines", ErrMalformed)
	}
	next, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || next < 0 || strconv.FormatInt(next, 10) != lines[1] {
		return MirrorInfo{}, fmt.Errorf("%w: mirror info next entry %q", ErrMalformed, lines[1])
	}
	return MirrorInfo{Size: next}, nil
}
