package partylog

import (
	"compress/gzip"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/tillit/tillit/store"
	"github.com/tillit/tillit/tlog"
	sumdb "golang.org/x/mod/sumdb/tlog"
)

// Handler serves the log over HTTP in the c2sp.org/tlog-tiles layout, relative
// to wherever it is mounted (use http.StripPrefix): "checkpoint",
// "tile/<L>/<N>[.p/<W>]" and "tile/entries/<N>[.p/<W>]". Only tiles of the
// tree of the latest released checkpoint are served; a partial tile of any
// width that tree implies is served as a prefix of the stored tile.
func (l *Log) Handler() http.Handler {
	return tileHandler{
		latest: func() (Signed, bool) { return l.Latest(), true },
		read:   l.ReadTile,
		log:    l.log,
	}
}

// tileHandler serves a log (own or mirrored) as tlog-tiles.
type tileHandler struct {
	latest func() (Signed, bool)
	read   func(context.Context, sumdb.Tile) ([]byte, error)
	log    *slog.Logger
}

func (h tileHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	path := strings.TrimPrefix(r.URL.Path, "/")
	latest, ok := h.latest()
	if !ok {
		http.Error(w, "no checkpoint yet", http.StatusNotFound)
		return
	}
	if path == "checkpoint" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Write(latest.Note)
		return
	}
	t, err := tlog.ParseTilePath(path)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	size := latest.Tree.N
	have, ok := tlog.TileForSize(t.L, t.N, size)
	if !ok || have.W < t.W {
		http.Error(w, "tile not in the tree of the latest checkpoint", http.StatusNotFound)
		return
	}
	data, err := h.read(r.Context(), t)
	if errors.Is(err, store.ErrNotFound) {
		http.Error(w, "tile not found", http.StatusNotFound)
		return
	} else if err != nil {
		h.log.Error("couldn't read tile", "path", path, "err", err)
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
