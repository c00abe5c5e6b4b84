package main

import (
	"bufio"
	"errors"
	"io"
	"os"
	"os/exec"
	"runtime/debug"
	"slices"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/internal/nss"
	"github.com/ipvs-tools/ipvs/internal/rulesfile"
	"github.com/ipvs-tools/ipvs/ipvsproc"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// minimumVersion is the oldest kernel IPVS version ipvsadm accepts without
// a warning (1.1.4).
const minimumVersion = 0x010104

// app is one run of ipvsadm with its environment.
type app struct {
	stdin io.Reader
	out   *cStream
	errw  *cStream
	env   ipvsadmargs.Env
	names ipvsadmfmt.Resolver
	open  func() (Backend, error)
	// initErrno reports the errno of ipvsadm's fallback initialisation
	// (the raw socket and IP_VS_SO_GET_INFO) when the IPVS genetlink
	// family is missing.
	initErrno func() unix.Errno
	modprobe  func() bool
	openConn  func() (io.ReadCloser, error)
	// openProc opens /proc/net/ip_vs for the fast listing path; nil
	// disables it.
	openProc func() (io.ReadCloser, error)

	backend Backend
	cmd     ipvsadmargs.Command
	// restoreExec, when set, carries out the writes of -R
	// (ipvsadm-restore); restoreInput is that command's input.
	restoreExec  Executor
	restoreInput []byte
	// probeNames tells which scheduler and PE names the kernel has
	// (probeNamesInScratchNS); ok false: unknown.
	probeNames func(scheds, pes []string) (schedOK, peOK map[string]bool, ok bool)
	// lock takes the IPVS table lock for ipvsadm-restore (ipvslock),
	// waiting at most wait; nil takes none.
	lock     func(wait time.Duration) (release func(), err error)
	exec     Executor
	info     ipvs.Info
	lastFunc ipvsadmargs.Func
	status   int
}

// outcome is how a command ended: its status, and whether the process
// exits right away (ipvsadm's exit() calls, which also end -R).
type outcome struct {
	status   int
	exit     bool
	deferred bool
}

func run(argv []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return newApp(stdin, stdout, stderr).run(argv)
}

// newApp returns the program on the system's kernel, files and name
// services.
func newApp(stdin io.Reader, stdout, stderr io.Writer) *app {
	db := nss.System()
	return &app{
		stdin: stdin,
		out:   newStdout(stdout),
		errw:  &cStream{w: stderr, mode: unbuffered},
		env: ipvsadmargs.Env{
			LookupHost:     db.LookupHost,
			LookupService:  db.LookupService,
			PosixlyCorrect: os.Getenv("POSIXLY_CORRECT") != "" || os.Getenv("POSIX_ME_HARDER") != "",
		},
		names:      db,
		open:       openClient,
		initErrno:  sockoptInitErrno,
		modprobe:   modprobeIPVS,
		openConn:   func() (io.ReadCloser, error) { return os.Open(ipvsadmfmt.ConnFile) },
		openProc:   func() (io.ReadCloser, error) { return ipvsproc.Open(ipvsproc.ServicesFile) },
		probeNames: probeNamesInScratchNS,
		lock:       lockTable,
	}
}

// openClient opens the netlink client.
func openClient() (Backend, error) {
	c, err := netlinkipvs.New()
	if err != nil {
		return nil, err
	}
	return c, nil
}

// run is ipvsadm's main.
func (a *app) run(argv []string) int {
	code, ok := a.multicall(argv)
	if !ok {
		code = a.main(argv)
	}
	a.out.Flush()
	if a.backend != nil {
		a.backend.Close()
	}
	return code
}

func (a *app) main(argv []string) int {
	if len(argv) == 0 {
		argv = []string{"ipvsadm"}
	}
	// Deviation: help and version work without IPVS and privileges.
	if len(argv) > 1 {
		c, err := ipvsadmargs.Parse(argv, ipvsadmargs.Env{PosixlyCorrect: a.env.PosixlyCorrect})
		if err == nil && (c.Kind == ipvsadmargs.KindHelp || c.Kind == ipvsadmargs.KindVersion) {
			a.printInfo(c)
			return 0
		}
	}
	if code, ok := a.init(); !ok {
		return code
	}
	a.exec = directExecutor{b: a.backend}
	if len(argv) == 1 {
		o := a.listAll(ipvsadmfmt.Format{})
		return o.status
	}
	o := a.process(argv, false)
	a.exec.Flush()
	if o.exit || !o.deferred {
		return o.status
	}
	return a.status
}

func (a *app) printInfo(c *ipvsadmargs.Command) {
	if c.Kind == ipvsadmargs.KindHelp {
		ipvsadmfmt.WriteHelp(a.out, c.Argv0)
	} else {
		ipvsadmfmt.WriteVersion(a.out)
	}
}

func (a *app) errorf(s string) { a.errw.WriteString(s) }

// init is ipvs_init with ipvsadm's modprobe retry and version check.
func (a *app) init() (int, bool) {
	a.lastFunc = ipvsadmargs.FuncInit
	errno := a.tryInit()
	if errno != 0 && a.modprobe() {
		errno = a.tryInit()
	}
	if errno != 0 {
		a.errorf("Can't initialize ipvs: " + ipvsadmargs.Strerror(ipvsadmargs.FuncInit, errno) +
			"\nAre you sure that IP Virtual Server is built in the kernel or as module?\n")
		return 2, false
	}
	if a.info.Version.Code() < minimumVersion {
		a.errorf("Warning: IPVS version mismatch: \n  Kernel compiled with IPVS version " +
			a.info.Version.String() + "\n  ipvsadm v1.31  requires minimum IPVS version 1.1.4\n\n")
	}
	return 0, true
}

func (a *app) tryInit() unix.Errno {
	b, err := a.open()
	if err != nil {
		// No IPVS generic netlink family: ipvsadm falls back to the
		// old socket options, which fail on kernels without IPVS.
		return a.initErrno()
	}
	info, err := b.Info()
	if err != nil {
		b.Close()
		return errnoOf(err)
	}
	a.backend, a.info = b, info
	return 0
}

// errnoOf returns the kernel's errno in err; other failures are EINVAL,
// as in libipvs.
func errnoOf(err error) unix.Errno {
	var e *netlinkipvs.Error
	if errors.As(err, &e) {
		if errno, ok := e.Err.(unix.Errno); ok {
			return errno
		}
	}
	if errno, ok := netlinkipvs.Errno(err); ok {
		return errno
	}
	return unix.EINVAL
}

// sockoptInitErrno performs ipvsadm's fallback initialisation: a raw
// socket and getsockopt(IP_VS_SO_GET_INFO).
func sockoptInitErrno() unix.Errno {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW, unix.IPPROTO_RAW)
	if err != nil {
		if errno, ok := err.(unix.Errno); ok {
			return errno
		}
		return unix.EINVAL
	}
	defer unix.Close(fd)
	const ipVSSOGetInfo = 64 + 1024 + 64 + 1 // IP_VS_BASE_CTL + 1
	var buf [12]byte                         // struct ip_vs_getinfo
	l := uint32(len(buf))
	_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.IPPROTO_IP, ipVSSOGetInfo,
		uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&l)), 0)
	if e != 0 {
		return e
	}
	// A kernel with the old interface but no genetlink family: not
	// supported by this implementation.
	return unix.ENOPROTOOPT
}

// modprobeIPVS runs "/sbin/modprobe -- ip_vs" and reports its success.
func modprobeIPVS() bool {
	cmd := exec.Command("/sbin/modprobe", "--", "ip_vs")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd.Run() == nil
}

// process is ipvsadm's process_options for one argv (a command line, or a
// line of -R input when readingStdin).
func (a *app) process(argv []string, readingStdin bool) outcome {
	// One Command is reused for every line: nothing keeps it after the
	// line is processed (executors copy what they send).
	cmd := &a.cmd
	if err := ipvsadmargs.ParseInto(cmd, argv, a.env); err != nil {
		var pe *ipvsadmargs.Error
		errors.As(err, &pe)
		a.exec.Flush()
		a.errorf(pe.Msg)
		if pe.Kind == ipvsadmargs.ErrPopt {
			return outcome{status: pe.Status}
		}
		return outcome{status: pe.Status, exit: true}
	}
	switch cmd.Kind {
	case ipvsadmargs.KindHelp, ipvsadmargs.KindVersion:
		a.exec.Flush()
		a.printInfo(cmd)
		return outcome{status: 0, exit: true}
	case ipvsadmargs.KindList:
		a.exec.Flush()
		return a.list(cmd)
	case ipvsadmargs.KindSave:
		a.exec.Flush()
		f := ipvsadmfmt.FormatFor(cmd.List, true)
		return a.listAll(f)
	case ipvsadmargs.KindRestore:
		a.exec.Flush()
		if readingStdin {
			a.errorf(ipvsadmargs.TryHelp(argv[0]).Msg)
			return outcome{status: 255, exit: true}
		}
		return a.restore(argv[0])
	}
	fn, setsFunc := writeFuncs[cmd.Kind]
	if setsFunc {
		a.lastFunc = fn
	} else {
		fn = a.lastFunc
	}
	a.exec.Apply(cmd, func(err error) {
		if err != nil {
			a.errorf(ipvsadmargs.Strerror(fn, errnoOf(err)) + "\n")
			a.status = 255
		} else {
			a.status = 0
		}
	})
	return outcome{deferred: true}
}

// restore is ipvsadm's restore_table: one command per line of stdin. The
// lines' kernel writes are batched when the backend can (see
// batchExecutor): the runner flushes before every read, print and abort,
// so messages, their order and the statuses are those of one request per
// line.
func (a *app) restore(argv0 string) outcome {
	if a.restoreExec != nil {
		a.exec = a.restoreExec
	} else if bt, ok := a.backend.(Batcher); ok {
		a.exec = &batchExecutor{b: bt}
		// Lines allocate little and keep nothing: collect garbage
		// less often. (ipvsadm-restore keeps a table: not there.)
		debug.SetGCPercent(400)
	}
	rr := rulesfile.NewReader(bufio.NewReaderSize(a.stdin, 64<<10))
	a.status = 0
	for {
		argv, ok := rr.Next(argv0)
		if !ok {
			break
		}
		if len(argv) <= 1 {
			continue
		}
		o := a.process(argv, true)
		if o.exit {
			return o
		}
		if !o.deferred {
			a.status = o.status
		}
	}
	return outcome{deferred: true}
}

// fail prints a listing error message and ends the process with status 1.
func (a *app) listFail(msg string) outcome {
	a.errorf(msg)
	return outcome{status: 1, exit: true}
}

// list is the -L command.
func (a *app) list(cmd *ipvsadmargs.Command) outcome {
	f := ipvsadmfmt.FormatFor(cmd.List, false)
	switch {
	case cmd.List.Connection:
		r, err := a.openConn()
		if err != nil {
			return a.listFail("cannot open file " + ipvsadmfmt.ConnFile + "\n")
		}
		defer r.Close()
		// The kernel's walk of the table (restarted at every read)
		// overlaps with the formatting where there are CPUs for both.
		ra := ipvsproc.ReadAhead(r, 1<<20)
		defer ra.Close()
		if err := ipvsadmfmt.WriteConnections(a.out, ra, f, a.names); err != nil {
			var le *ipvsadmfmt.ListError
			if errors.As(err, &le) {
				return a.listFail(le.Msg)
			}
			return outcome{status: 1, exit: true}
		}
		return outcome{status: 0}
	case cmd.HasService:
		a.lastFunc = ipvsadmargs.FuncGetService
		svc, err := a.backend.Service(cmd.ServiceKey())
		if err != nil {
			return a.listFail(ipvsadmargs.Strerror(a.lastFunc, errnoOf(err)) + "\n")
		}
		ipvsadmfmt.WriteTitle(a.out, f)
		a.lastFunc = ipvsadmargs.FuncGetDests
		dests, err := a.backend.Destinations(svc.Key())
		if err != nil {
			return a.listFail(ipvsadmargs.Strerror(a.lastFunc, errnoOf(err)) + "\n")
		}
		ipvsadmfmt.WriteService(a.out, ipvsadmfmt.ServiceEntry{Service: svc, Dests: dests}, f, a.names)
		return outcome{status: 0}
	case cmd.List.Timeout:
		a.lastFunc = ipvsadmargs.FuncGetTimeout
		t, err := a.backend.Timeouts()
		if err != nil {
			return outcome{status: 1, exit: true}
		}
		ipvsadmfmt.WriteTimeouts(a.out, t)
		return outcome{status: 0}
	case cmd.List.Daemon:
		a.lastFunc = ipvsadmargs.FuncGetDaemon
		ds, err := a.backend.Daemons()
		if err != nil {
			return outcome{status: 1, exit: true}
		}
		ipvsadmfmt.WriteDaemons(a.out, ds)
		return outcome{status: 0}
	}
	return a.listAll(f)
}

// listAll is ipvsadm's list_all: the version line (not for -S) goes out
// before anything is fetched; the services are fetched with one dump and
// sorted, then each service's destinations are fetched and printed. A
// failure prints what ipvsadm would have printed up to that point.
//
// For the default and save formats the destinations come from one read
// of /proc/net/ip_vs joined to the service dump (see proctable.go);
// services the file cannot describe, and every service when the file
// cannot be read, get their own netlink dump as in ipvsadm.
func (a *app) listAll(f ipvsadmfmt.Format) outcome {
	if !f.Rule {
		ipvsadmfmt.WriteVersionLine(a.out, a.info)
	}
	if fastFormat(f) && a.openProc != nil {
		return a.listAllFast(f)
	}
	svcs, err := a.backend.Services()
	if err != nil {
		// ipvs_get_services does not set ipvs_func in netlink mode.
		return a.listFail(ipvsadmargs.Strerror(a.lastFunc, errnoOf(err)) + "\n")
	}
	var order []int32
	if !f.NoSort {
		order = ipvsadmfmt.SortedOrder(svcs)
	}
	ipvsadmfmt.WriteTitle(a.out, f)
	var (
		sc    ipvsadmfmt.Scratch
		buf   []byte
		entry ipvsadmfmt.ServiceEntry
	)
	for n := range svcs {
		i := n
		if order != nil {
			i = int(order[n])
		}
		a.lastFunc = ipvsadmargs.FuncGetDests
		dests, err := a.backend.Destinations(svcs[i].Key())
		if err != nil {
			return a.listFail(ipvsadmargs.Strerror(ipvsadmargs.FuncGetDests, errnoOf(err)) + "\n")
		}
		entry.Service, entry.Dests = svcs[i], dests
		buf = ipvsadmfmt.AppendService(buf[:0], &entry, f, a.names, &sc)
		a.out.Write(buf)
	}
	return outcome{status: 0}
}

// listAllFast is listAll for the default and save formats: the services
// of one dump in compact form, their destinations from one read of
// /proc/net/ip_vs (see proctable.go), a netlink dump only for the
// services the file cannot describe.
func (a *app) listAllFast(f ipvsadmfmt.Format) outcome {
	// Keep the peak small: the service dump leaves a copy of every
	// datagram behind, and the file is read after it.
	old := debug.SetGCPercent(25)
	defer debug.SetGCPercent(old)
	procDone := a.startProcTable()
	l, err := a.fetchServices()
	pt := procDone()
	if err != nil {
		// ipvs_get_services does not set ipvs_func in netlink mode.
		return a.listFail(ipvsadmargs.Strerror(a.lastFunc, errnoOf(err)) + "\n")
	}
	var order []int32
	if !f.NoSort {
		order = l.sortedOrder()
	}
	if pt != nil {
		pt.join(l, f.Rule)
	}
	ipvsadmfmt.WriteTitle(a.out, f)
	var (
		sc    ipvsadmfmt.Scratch
		buf   []byte
		dests []ipvs.Destination
		entry ipvsadmfmt.ServiceEntry
	)
	for n := range l.len() {
		i := n
		if order != nil {
			i = int(order[n])
		}
		a.lastFunc = ipvsadmargs.FuncGetDests
		entry.Service = l.service(i)
		var ok bool
		dests, ok = pt.dests(i, dests)
		if !ok {
			ds, err := a.backend.Destinations(entry.Service.Key())
			if err != nil {
				return a.listFail(ipvsadmargs.Strerror(ipvsadmargs.FuncGetDests, errnoOf(err)) + "\n")
			}
			dests = ds
		}
		entry.Dests = dests
		buf = ipvsadmfmt.AppendService(buf[:0], &entry, f, a.names, &sc)
		a.out.Write(buf)
		if !ok {
			dests = nil
		}
	}
	return outcome{status: 0}
}

// readTable reads the live table for ipvsadm-restore's fast mode: one
// service dump, the destinations from /proc/net/ip_vs where it describes
// them exactly enough to compare them with a desired table (not tunnel
// destinations, whose settings it lacks), netlink destination dumps for
// the rest. (The exact read goes service by service as the restore's
// Flush reaches each: simExecutor.current.)
func (a *app) readTable() ([]ipvs.VirtualServer, error) {
	procDone := func() *procTable { return nil }
	if a.openProc != nil {
		procDone = a.startProcTable()
	}
	l, err := a.fetchServices()
	pt := procDone()
	if err != nil {
		return nil, err
	}
	if pt != nil {
		pt.join(l, true)
	}
	out := make([]ipvs.VirtualServer, l.len())
	var buf []ipvs.Destination
	for i := range l.len() {
		s := l.service(i)
		ds, ok := pt.dests(i, buf[:0])
		buf = ds
		if ok {
			ds = slices.Clone(ds)
		} else if ds, err = a.backend.Destinations(s.Key()); err != nil {
			return nil, err
		}
		out[i] = ipvs.VirtualServer{Service: s, Destinations: ds}
	}
	return out, nil
}
