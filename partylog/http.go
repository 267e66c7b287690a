package partylog

import (
	"compress/gzip"
	"errors"
	"net/http"
	"strings"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
)

// Handler serves the log over HTTP in the c2sp.org/tlog-tiles layout, relative
// to wherever it is mounted (use http.StripPrefix): "checkpoint",
// "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]". Only tiles of the
// tree of the latest released checkpoint are served; a partial tile of any
// width that tree implies is served as a prefix of the stored tile.
func (l *Log) Handler() http.Handler {
	return http.HandlerFunc(l.serveHTTP)
}

func (l *Log) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	if path == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(l.Latest().Note)
		return
	}
	t, err := tlog.ParseTilePath(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	size := l.Latest().Tree.N
	have, ok := tlog.TileForSize(t.L, t.N, size)
	if !ok || have.W < t.W {
		http.Error(w, "tile not in the tree of the latest checkpoint", http.StatusNotFound)
		return
	}
	data, err := l.ReadTile(r.Context(), t)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "tile not found", http.StatusNotFound)
		return
	} else if err != nil {
		l.log.Error("couldn't read tile", "path", path, "err", err)
		http.Error(w, "couldn't read tile", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	if t.L == tlog.EntriesLevel && acceptsGzip(r) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Add("Vary", "Accept-Encoding")
		gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
		gz.Write(data)
		gz.Close()
		return
	}
	w.Write(data)
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
