package lvslab

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// Request is one request of a client loop.
type Request struct {
	Start, End time.Time
	// Body is the answer (trimmed): busybox httpd's index.html names the
	// server.
	Body string
	Err  error
}

// ClientLoop sends GET url from the namespace ns, one request (and one
// connection) at a time with a pause of 10 ms, until stop is called;
// stop returns every request. Each request may take up to 2 s.
func ClientLoop(ns *Netns, url string) (stop func() []Request) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{DisableKeepAlives: true, DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := ns.Do(func() error {
			var err error
			c, err = (&net.Dialer{Timeout: time.Second}).DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}}
	hc := &http.Client{Transport: tr, Timeout: 2 * time.Second}
	var out []Request
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			r := Request{Start: time.Now()}
			resp, err := hc.Get(url)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				r.Body = strings.TrimSpace(string(b))
				if resp.StatusCode != http.StatusOK {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			r.End, r.Err = time.Now(), err
			out = append(out, r)
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return func() []Request { cancel(); <-done; return out }
}

// FailuresAfter counts the requests started after t0 that failed, and
// returns the first one's error.
func FailuresAfter(rs []Request, t0 time.Time) (n int, first error) {
	for _, r := range rs {
		if r.Start.After(t0) && r.Err != nil {
			if n == 0 {
				first = r.Err
			}
			n++
		}
	}
	return n, first
}
