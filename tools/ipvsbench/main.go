// Command ipvsbench is a developer tool that drives the netlinkipvs library
// for benchmarks in the test VM (see bench/). It is not part of the
// product.
//
// Usage:
//
//	ipvsbench populate [-services N] [-dests M] [-prefix 10.2]
//	    create N TCP services (10.2.x.y:80, wlc) with M masquerading
//	    destinations each, in batches
//	ipvsbench services | proc
//	    one service dump / one read of /proc/net/ip_vs, and counts
//	ipvsbench procread [-size N]
//	    read /proc/net/ip_vs without parsing, N bytes per request
//	ipvsbench list
//	    fetch every service and destination through the library (one
//	    service dump, one destination dump per service) and print counts
//	ipvsbench rawlist
//	    the same destination dumps over a blocking socket driven by plain
//	    system calls: the floor the library's request path is measured
//	    against
//	ipvsbench time [-n N] [-label L] [-in FILE] [-out FILE] -- COMMAND [ARGS...]
//	    run COMMAND N times (standard input from FILE, the last run's
//	    standard output to FILE, else discarded) and print
//	    "L: best S s, mean S s, peak RSS K KiB" (peak RSS is the child's
//	    ru_maxrss, i.e. VmHWM); "{i}" in an argument becomes the run's
//	    number (1..N), for commands that must differ between runs. The
//	    peak RSS has this process's own (about 4.3 MB) as its floor:
//	    os/exec starts children with vfork, and Linux carries the parent's
//	    high-water mark into the child's ru_maxrss at exec.
//
// populate, list and rawlist print the elapsed time on standard error;
// IPVSBENCH_CPUPROFILE=FILE writes a CPU profile.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"runtime/pprof"
	"time"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: ipvsbench populate [-services N] [-dests M] | list")
		return 2
	}
	if args[0] == "time" {
		return timeCmd(args[1:], stdout, stderr)
	}
	if p := os.Getenv("IPVSBENCH_CPUPROFILE"); p != "" {
		f, err := os.Create(p)
		if err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	c, err := netlinkipvs.New()
	if err != nil {
		fmt.Fprintln(stderr, "ipvsbench:", err)
		return 1
	}
	defer c.Close()
	start := time.Now()
	switch args[0] {
	case "populate":
		fs := flag.NewFlagSet("populate", flag.ContinueOnError)
		fs.SetOutput(stderr)
		nsvc := fs.Int("services", 10000, "number of services")
		ndest := fs.Int("dests", 10, "destinations per service")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		if *nsvc > 65536 || *ndest > 255 {
			fmt.Fprintln(stderr, "ipvsbench: at most 65536 services and 255 destinations")
			return 2
		}
		ops := populateOps(*nsvc, *ndest)
		errs, err := c.Batch(ops)
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		for i, e := range errs {
			if e != nil {
				fmt.Fprintf(stderr, "ipvsbench: op %d: %v\n", i, e)
				return 1
			}
		}
		fmt.Fprintf(stdout, "created %d services, %d destinations\n", *nsvc, *nsvc**ndest)
	case "services":
		// One service dump, nothing else (for breaking listing costs down).
		svcs, err := c.Services()
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "dumped %d services\n", len(svcs))
	case "proc":
		// One read of /proc/net/ip_vs through ipvsproc.
		nsvc, ndest := 0, 0
		f, err := ipvsproc.Open(ipvsproc.ServicesFile)
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		_, err = ipvsproc.ScanServices(f, func(s *ipvsproc.Service) error {
			nsvc++
			ndest += len(s.Dests)
			return nil
		})
		f.Close()
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "read %d services, %d destinations\n", nsvc, ndest)
	case "procread":
		// Experiment: read /proc/net/ip_vs raw (no parsing) with
		// requests of -size bytes, to split kernel from parse time.
		fs := flag.NewFlagSet("procread", flag.ContinueOnError)
		fs.SetOutput(stderr)
		size := fs.Int("size", ipvsproc.MinReadSize, "read request size")
		if err := fs.Parse(args[1:]); err != nil {
			return 2
		}
		f, err := ipvsproc.Open(ipvsproc.ServicesFile)
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		buf := make([]byte, *size)
		reads, total, most := 0, 0, 0
		for {
			n, err := f.Read(buf)
			reads++
			total += n
			most = max(most, n)
			if err != nil || n == 0 {
				break
			}
		}
		f.Close()
		fmt.Fprintf(stdout, "read %d bytes in %d reads (largest %d)\n", total, reads, most)
	case "list":
		svcs, err := c.Services()
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		n := 0
		for _, s := range svcs {
			ds, err := c.Destinations(s.Key())
			if err != nil {
				fmt.Fprintln(stderr, "ipvsbench:", err)
				return 1
			}
			n += len(ds)
		}
		fmt.Fprintf(stdout, "listed %d services, %d destinations\n", len(svcs), n)
	case "rawlist":
		// Experiment: the same destination dumps over plain system calls.
		svcs, err := c.Services()
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		fam, err := familyID()
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		n, err := rawDumps(svcs, fam)
		if err != nil {
			fmt.Fprintln(stderr, "ipvsbench:", err)
			return 1
		}
		fmt.Fprintf(stdout, "listed %d services, %d destinations (raw)\n", len(svcs), n)
	default:
		fmt.Fprintf(stderr, "ipvsbench: unknown command %q\n", args[0])
		return 2
	}
	fmt.Fprintf(stderr, "ipvsbench %s: %.3f s\n", args[0], time.Since(start).Seconds())
	return 0
}

// populateOps builds the requests for nsvc services with ndest
// destinations each.
func populateOps(nsvc, ndest int) []ipvs.Op {
	ops := make([]ipvs.Op, 0, nsvc*(ndest+1))
	for i := 0; i < nsvc; i++ {
		s := ipvs.Service{
			Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
			Address: netip.AddrFrom4([4]byte{10, 2, byte(i >> 8), byte(i)}), Port: 80,
			Scheduler: "wlc", Netmask: 0xffffffff,
		}
		ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
		for j := 0; j < ndest; j++ {
			ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewDest, Service: s, Destination: ipvs.Destination{
				Address: netip.AddrFrom4([4]byte{192, 168, byte(j), 1}), Port: 8080,
				ForwardMethod: ipvs.FwdMasq, Weight: 1,
			}})
		}
	}
	return ops
}
