package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/tillit/tillit/bench"
)

const (
	natsStream  = "BENCH"
	natsSubject = "bench.statements"
)

// openNATS returns the opener of an embedded NATS server with JetStream on
// file storage in dir, listening on a random loopback port, with one stream
// on natsSubject, and a client connected to it over loopback TCP.
//
// syncAlways is the server setting `sync_interval: always`
// (Options.SyncAlways, with SyncInterval at its default as the config
// parser sets it): the stream's files are opened O_SYNC, so a publish is
// acknowledged only after its write reached the disk. Without it the server
// acknowledges once the message is in the operating system's page cache
// and fsyncs every SyncInterval (2 minutes by default).
func openNATS(syncAlways bool) opener {
	return func(ctx context.Context, dir string, cfg runConfig) (system, error) {
		opts := &server.Options{
			ServerName: "nodebench",
			Host:       "127.0.0.1",
			Port:       server.RANDOM_PORT,
			JetStream:  true,
			StoreDir:   dir,
			NoSigs:     true,
			NoLog:      !cfg.Verbose,
			MaxPayload: 1 << 20,
		}
		if syncAlways {
			opts.SyncAlways = true
		}
		s, err := server.NewServer(opts)
		if err != nil {
			return nil, err
		}
		if cfg.Verbose {
			s.ConfigureLogger()
		}
		s.Start()
		if !s.ReadyForConnections(30 * time.Second) {
			s.Shutdown()
			return nil, errors.New("nats server not ready after 30s")
		}
		n := &natsSystem{srv: s, publisher: *natsPublisher}
		nconns := max(1, min(*natsConns, cfg.Concurrency))
		for range nconns {
			nc, err := nats.Connect(s.ClientURL(), nats.Name("nodebench"), nats.MaxReconnects(0))
			if err != nil {
				n.close()
				return nil, err
			}
			// An async publisher's window is bounded by the harness (below);
			// the client's own bound only has to stay out of its way.
			js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(max(cfg.Concurrency*2, 256)))
			if err != nil {
				nc.Close()
				n.close()
				return nil, err
			}
			n.conns = append(n.conns, nc)
			n.js = append(n.js, js)
		}
		_, err = n.js[0].CreateStream(ctx, jetstream.StreamConfig{
			Name:      natsStream,
			Subjects:  []string{natsSubject},
			Storage:   jetstream.FileStorage,
			Replicas:  1,
			Retention: jetstream.LimitsPolicy,
			Discard:   jetstream.DiscardOld,
		})
		if err != nil {
			n.close()
			return nil, fmt.Errorf("create stream: %w", err)
		}
		return n, nil
	}
}

type natsSystem struct {
	srv       *server.Server
	conns     []*nats.Conn
	js        []jetstream.JetStream
	publisher string
}

func (n *natsSystem) load(ctx context.Context, cfg runConfig, stop <-chan struct{}, rec *recorder) error {
	switch n.publisher {
	case "sync":
		// cfg.Concurrency goroutines, each publishing with js.Publish
		// (publish, then wait for the stream's PubAck) in a loop: exactly
		// that many messages in flight, each timed from the call to its ack.
		closedLoop(ctx, cfg.Concurrency, cfg.Size, stop, rec, func(w int, p []byte) (time.Time, error) {
			_, err := n.js[w%len(n.js)].Publish(ctx, natsSubject, p)
			return time.Time{}, err
		})
		return nil
	case "async":
		// One goroutine per connection publishing with js.PublishAsync,
		// keeping at most cfg.Concurrency messages without an ack in flight
		// in total; each is timed from the call to its ack.
		var wg sync.WaitGroup
		per := cfg.Concurrency / len(n.js)
		for i, js := range n.js {
			window := per
			if i < cfg.Concurrency%len(n.js) {
				window++
			}
			wg.Go(func() { asyncPublisher(ctx, js, i, window, cfg.Size, stop, rec) })
		}
		wg.Wait()
		return nil
	}
	return fmt.Errorf("unknown -nats-publisher %q", n.publisher)
}

// asyncPublisher publishes with PublishAsync, at most window messages
// without an ack in flight, until stop is closed, then waits for the acks
// still outstanding. Acks of one stream arrive in order, so a collector
// waiting on the futures in order times each within microseconds of its
// arrival.
func asyncPublisher(ctx context.Context, js jetstream.JetStream, w, window, size int, stop <-chan struct{}, rec *recorder) {
	type pending struct {
		f     jetstream.PubAckFuture
		start time.Time
	}
	slots := make(chan struct{}, window)
	inflight := make(chan pending, window)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range inflight {
			var err error
			select {
			case <-p.f.Ok():
			case err = <-p.f.Err():
			case <-ctx.Done():
				err = ctx.Err()
			}
			rec.done(w, p.start, time.Time{}, time.Now(), err)
			<-slots
		}
	}()
	pl := bench.NewPayloads(w, size)
loop:
	for {
		p := pl.Next()
		select { // blocks while window messages are unacknowledged
		case <-stop:
			break loop
		case <-ctx.Done():
			break loop
		case slots <- struct{}{}:
		}
		start := time.Now()
		f, err := js.PublishAsync(natsSubject, p)
		if err != nil {
			rec.done(w, start, time.Time{}, time.Now(), err)
			<-slots
			if n, _ := rec.errors(); n >= maxErrors {
				break
			}
			continue
		}
		inflight <- pending{f, start}
	}
	close(inflight)
	<-done
}

func (n *natsSystem) stored(ctx context.Context) uint64 {
	if len(n.js) == 0 {
		return 0
	}
	st, err := n.js[0].Stream(ctx, natsStream)
	if err != nil {
		return 0
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0
	}
	return info.State.Msgs
}

func (n *natsSystem) close() error {
	for _, nc := range n.conns {
		nc.Close()
	}
	n.srv.Shutdown()
	n.srv.WaitForShutdown()
	return nil
}
