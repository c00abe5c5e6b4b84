package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	if err := run(os.Args[1:], os.Stderr, stop, nil); err != nil {
		fmt.Fprintf(os.Stderr, "etcdserver: %v\n", err)
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// readyTimeout bounds the wait for the member to serve (TCG guests are
// slow; a single member elects itself in about a second).
const readyTimeout = 2 * time.Minute

// run starts the server as args say, reports the client URLs it serves
// on to ready (if not nil) and on stderr, and serves until stop
// receives, then closes the server. It returns nil after a clean stop.
func run(args []string, stderr io.Writer, stop <-chan os.Signal, ready func(clientURLs []string)) error {
	fs := flag.NewFlagSet("etcdserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "default", "the member's name")
	dataDir := fs.String("data-dir", "", "the data directory (required; reused with its data if it exists)")
	listenClient := fs.String("listen-client-urls", "http://127.0.0.1:2379", "comma-separated URLs to serve clients on")
	advertiseClient := fs.String("advertise-client-urls", "", "comma-separated client URLs to advertise (default: --listen-client-urls)")
	listenPeer := fs.String("listen-peer-urls", "http://127.0.0.1:2380", "comma-separated URLs for the peer listener (also advertised)")
	logLevel := fs.String("log-level", "error", "etcd's log level: debug, info, warn, error, panic or fatal")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	}
	if *dataDir == "" {
		return fmt.Errorf("%w: --data-dir is required", errUsage)
	}
	if *advertiseClient == "" {
		*advertiseClient = *listenClient
	}
	cfg := embed.NewConfig()
	cfg.Name = *name
	cfg.Dir = *dataDir
	cfg.Logger = "zap"
	cfg.LogOutputs = []string{"stderr"}
	cfg.LogLevel = *logLevel
	var err error
	for _, f := range []struct {
		flag, val string
		dst       *[]url.URL
	}{
		{"--listen-client-urls", *listenClient, &cfg.ListenClientUrls},
		{"--advertise-client-urls", *advertiseClient, &cfg.AdvertiseClientUrls},
		{"--listen-peer-urls", *listenPeer, &cfg.ListenPeerUrls},
		{"--listen-peer-urls", *listenPeer, &cfg.AdvertisePeerUrls},
	} {
		if *f.dst, err = parseURLs(f.val); err != nil {
			return fmt.Errorf("%w: %s: %v", errUsage, f.flag, err)
		}
	}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return err
	}
	defer e.Close()
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		return err
	case <-stop:
		return nil
	case <-time.After(readyTimeout):
		return fmt.Errorf("the member is not ready after %v", readyTimeout)
	}
	var urls []string
	for _, l := range e.Clients {
		urls = append(urls, "http://"+l.Addr().String())
	}
	fmt.Fprintf(stderr, "etcdserver: serving on %s\n", strings.Join(urls, ","))
	if ready != nil {
		ready(urls)
	}
	select {
	case err := <-e.Err():
		return err
	case <-stop:
		return nil
	}
}

// parseURLs parses comma-separated http URLs.
func parseURLs(s string) ([]url.URL, error) {
	var us []url.URL
	for _, f := range strings.Split(s, ",") {
		u, err := url.Parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		if u.Scheme != "http" || u.Host == "" {
			return nil, fmt.Errorf("%q: want http://HOST:PORT", f)
		}
		us = append(us, *u)
	}
	return us, nil
}
