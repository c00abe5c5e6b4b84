package healthcheck

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// maxHeader bounds the status line and headers read.
const maxHeader = 64 << 10

// userAgent names the prober to the servers it asks.
const userAgent = "ipvs-healthcheck/1"

// http sends one request on a fresh connection and checks the status and
// the body. Redirects are not followed: a 3xx is a status like any other.
func (p *prober) http() error {
	c := p.c
	scheme := "http"
	if c.Type == HTTPS {
		scheme = "https"
	}
	method, path := c.Method, c.Path
	if method == "" {
		method = DefaultMethod
	}
	if path == "" {
		path = DefaultPath
	}
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	// AddrPort's String brackets an IPv6 address.
	req, err := http.NewRequestWithContext(p.ctx, method, scheme+"://"+p.target.String()+path, nil)
	if err != nil {
		return &probeError{fmt.Sprintf("bad request %s %s: %v", method, path, bare(err)), err}
	}
	if c.Host != "" {
		req.Host = c.Host
	}
	req.Header.Set("User-Agent", userAgent)
	req.Close = true // "Connection: close": one request per connection

	// One connection, one request, one response, read on this goroutine:
	// an http.Transport would start two goroutines and more per probe.
	conn, err := p.dial(p.ctx, "tcp", p.target.String())
	if err != nil {
		return p.fail(err)
	}
	defer conn.Close()
	if dl, ok := p.ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(p.ctx, func() { conn.SetDeadline(aLongTimeAgo) })
	defer stop()
	if c.Type == HTTPS {
		name := serverName(c)
		if name == "" && c.TLSVerify {
			name = p.target.Addr().String() // as a URL with the address would
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: !c.TLSVerify, ServerName: name})
		if err := tc.HandshakeContext(p.ctx); err != nil {
			var rh tls.RecordHeaderError
			if errors.As(err, &rh) {
				return &probeError{"not TLS: the server answered in plain text (an http port?)", err}
			}
			return p.fail(err)
		}
		conn = tc
	}
	if err := req.Write(conn); err != nil {
		return p.fail(err)
	}
	resp, err := http.ReadResponse(bufio.NewReaderSize(io.LimitReader(conn, maxRead+maxHeader), 4096), req)
	if err != nil {
		return p.fail(err)
	}
	defer resp.Body.Close()

	if !statusOK(resp.StatusCode, c.ExpectStatus) {
		return &probeError{fmt.Sprintf("status %d (want %s)", resp.StatusCode, wantStatus(c.ExpectStatus)), nil}
	}
	if c.ExpectBody != nil {
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxRead))
		if err != nil {
			err = p.fail(err)
			return &probeError{"reading the body: " + err.Error(), err}
		}
		if !c.ExpectBody.Match(body) {
			return &probeError{fmt.Sprintf("body does not match %q", c.ExpectBody.String()), nil}
		}
	}
	return nil
}

// serverName is the TLS server name of c: SNI, else Host without its
// port, else none.
func serverName(c *Check) string {
	if c.SNI != "" {
		return c.SNI
	}
	host := c.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

// statusOK reports whether status is one of want (200-399 when empty).
func statusOK(status int, want []int) bool {
	if len(want) == 0 {
		return status >= 200 && status <= 399
	}
	return slices.Contains(want, status)
}

// wantStatus words the statuses that pass: "200-399", "200" or "200, 204".
func wantStatus(want []int) string {
	if len(want) == 0 {
		return "200-399"
	}
	s := make([]string, len(want))
	for i, n := range want {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
