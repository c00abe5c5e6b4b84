package main

import (
	"context"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// syncBuffer is a strings.Builder safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// server is run in a goroutine.
type server struct {
	url  string
	log  *syncBuffer
	stop chan os.Signal
	done chan error
}

func start(t *testing.T, args ...string) *server {
	t.Helper()
	s := &server{log: &syncBuffer{}, stop: make(chan os.Signal, 1), done: make(chan error, 1)}
	ready := make(chan []string, 1)
	go func() { s.done <- run(args, s.log, s.stop, func(u []string) { ready <- u }) }()
	select {
	case u := <-ready:
		if len(u) != 1 {
			t.Fatalf("client URLs %q", u)
		}
		s.url = u[0]
	case err := <-s.done:
		t.Fatalf("run: %v\n%s", err, s.log)
	case <-time.After(time.Minute):
		t.Fatalf("not ready\n%s", s.log)
	}
	return s
}

func (s *server) close(t *testing.T) {
	t.Helper()
	s.stop <- os.Interrupt
	select {
	case err := <-s.done:
		if err != nil {
			t.Fatalf("run after the signal: %v\n%s", err, s.log)
		}
	case <-time.After(time.Minute):
		t.Fatalf("the server did not stop\n%s", s.log)
	}
}

func client(t *testing.T, url string) *clientv3.Client {
	t.Helper()
	c, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestServeRestart puts a key, stops the server, starts it again on the
// same data directory and reads the key back at its revision.
func TestServeRestart(t *testing.T) {
	dir := t.TempDir() + "/data"
	args := []string{"--name", "t", "--data-dir", dir,
		"--listen-client-urls", "http://127.0.0.1:0", "--listen-peer-urls", "http://127.0.0.1:0"}
	s := start(t, args...)
	if !strings.Contains(s.log.String(), "etcdserver: serving on "+s.url+"\n") {
		t.Errorf("log:\n%s", s.log)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client(t, s.url)
	put, err := c.Put(ctx, "/ipvsctl/documents/default", "apiVersion: ipvsctl/v1\n")
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	s.close(t)

	s = start(t, args...)
	defer s.close(t)
	c = client(t, s.url)
	got, err := c.Get(ctx, "/ipvsctl/documents/default")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Kvs) != 1 || string(got.Kvs[0].Value) != "apiVersion: ipvsctl/v1\n" || got.Kvs[0].ModRevision != put.Header.Revision {
		t.Errorf("after the restart: %+v, want the value put at revision %d", got.Kvs, put.Header.Revision)
	}
}

// TestUsage: the data directory is required, arguments are refused.
func TestUsage(t *testing.T) {
	for _, args := range [][]string{{}, {"--data-dir", t.TempDir(), "extra"}, {"--data-dir", t.TempDir(), "--listen-client-urls", "unix:///x"}} {
		var log syncBuffer
		if err := run(args, &log, nil, nil); err == nil || !strings.Contains(err.Error(), "usage") {
			t.Errorf("run %q: %v", args, err)
		}
	}
}
