package healthcheck

import (
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

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

	tr := &http.Transport{
		DialContext:       p.dial,
		DisableKeepAlives: true,
		TLSClientConfig: &tls.Config{
			InsecureSkipVerify: !c.TLSVerify,
			ServerName:         serverName(c),
		},
		MaxResponseHeaderBytes: maxRead,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := client.Do(req)
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
