package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"iter"
	"net"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/ipvslock"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// ipvsadm-restore: the C package's script runs
//
//	INPUT="$(grep -v '^#')"; ipvsadm -C; echo "$INPUT" | ipvsadm -R
//
// which empties the live table and rebuilds it line by line. Ours reaches
// the same table without emptying it: the input's table changes are
// simulated, from an empty table, by the kernel model (ipvsmodel, with the
// kernel's errors, printed where ipvsadm -R prints them), and the live
// table is changed only by the difference (ipvsplan.Diff, prune, full
// scope), sent in batches as it is worked out, whenever the input needs the kernel's view:
// before a listing, -Z, --start-daemon, an abort, and at the end. Lines
// that are not table changes (--set, daemons, -Z, listings, help) are
// executed in order, as -R would.

// fastReadEnv, when set, makes ipvsadm-restore read the live destinations
// from one read of /proc/net/ip_vs instead of one netlink dump per
// service: a constant number of reads, but blind to destination
// thresholds (-x, -y), so a live destination keeps thresholds the input
// does not give it (see COMPATIBILITY.md). By default the read is exact.
const fastReadEnv = "IPVSADM_RESTORE_FAST"

// scriptInput is what the script feeds ipvsadm -R: the lines of in that do
// not start with '#', without trailing newlines (command substitution),
// plus the newline echo adds. It reuses in's memory (a restore's input can
// be megabytes).
func scriptInput(in []byte) []byte {
	out := in[:0]
	for len(in) > 0 {
		line := in
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, in = in[:i+1], in[i+1:]
		} else {
			in = nil
		}
		if line[0] != '#' {
			out = append(out, line...)
		}
	}
	out = bytes.TrimRight(out, "\n")
	return append(out, '\n')
}

// restoreScript is ipvsadm-restore, waiting at most wait for the table
// lock. The lock is taken once the input is read, before the table is:
// the difference is worked out against a table no other writer (ipvsctl,
// its agent, another ipvsadm-restore) is changing.
func (a *app) restoreScript(wait time.Duration) int {
	data, _ := io.ReadAll(a.stdin)
	if a.lock != nil {
		release, err := a.lock(wait)
		var busy *ipvslock.BusyError
		switch {
		case errors.As(err, &busy) || errors.Is(err, context.Canceled):
			a.errorf(restoreName + ": " + lockMessage(err) + "\n")
			return 1
		case err == nil:
			defer release()
		}
		// Any other failure (no /run, not root) leaves the restore
		// unlocked, as the script is: the kernel has the last word.
	}
	data = scriptInput(data)
	a.stdin = bytes.NewReader(data)
	// "ipvsadm -C" first: its failure is only printed.
	if code, ok := a.init(); !ok {
		a.init() // "ipvsadm -R" fails the same way
		return code
	}
	a.restoreInput = data
	bt, ok := a.backend.(Batcher)
	if !ok {
		// Not a batching backend (tests): the script's way.
		a.exec = directExecutor{b: a.backend}
		apply(a.backend, &ipvsadmargs.Command{Kind: ipvsadmargs.KindFlush})
		o := a.restore("ipvsadm")
		return a.finish(o)
	}
	// The model holds up to 100,000s of destinations while the live
	// table is read past it: keep the heap tight.
	debug.SetGCPercent(50)
	sim := &simExecutor{a: a, b: bt, exact: os.Getenv(fastReadEnv) == ""}
	a.exec = sim
	a.restoreExec = sim
	o := a.restore("ipvsadm")
	return a.finish(o)
}

// finish ends a run as main does after process.
func (a *app) finish(o outcome) int {
	// The input is read; let the collector have it before the last
	// Flush reads the live table.
	a.stdin, a.restoreInput = nil, nil
	a.exec.Flush()
	if o.exit || !o.deferred {
		return o.status
	}
	return a.status
}

// simExecutor is the Executor of ipvsadm-restore (see above).
type simExecutor struct {
	a     *app
	b     Batcher
	exact bool

	started bool
	// model is the simulated table; dirty: it may differ from the live
	// one.
	model *ipvsmodel.Model
	dirty bool
	// liveServices are the live services when they were read (for their
	// scheduler names) and nothing was written since.
	liveServices *svcList

	// Kernel facts the simulation needs, learned when first needed.
	schedOK, peKnown map[string]bool
	knownNames       bool
	sync             map[ipvs.DaemonState]bool
	localAddrs       map[netip.Addr]bool
}

func (e *simExecutor) start() {
	if e.started {
		return
	}
	e.started = true
	e.model = ipvsmodel.New(ipvsmodel.Kernel{
		Scheduler:   e.schedulerOK,
		PE:          e.peOK,
		Local:       e.isLocal,
		SyncRunning: e.syncRunning,
	})
	e.dirty = true // the simulation starts from an empty table
}

// readServices returns the live services: one dump, kept until the next
// write.
func (e *simExecutor) readServices() (*svcList, error) {
	if e.liveServices == nil {
		l, err := e.a.fetchServices()
		if err != nil {
			return nil, err
		}
		e.liveServices = l
	}
	return e.liveServices, nil
}

// isLocal reports whether an address belongs to this namespace's
// interfaces: the kernel takes a local IPv6 address as a destination even
// where its type (link-local, say) is refused otherwise.
func (e *simExecutor) isLocal(a netip.Addr) bool {
	if e.localAddrs == nil {
		e.localAddrs = map[netip.Addr]bool{}
		addrs, _ := net.InterfaceAddrs()
		for _, ia := range addrs {
			if p, err := netip.ParsePrefix(ia.String()); err == nil {
				e.localAddrs[p.Addr().WithZone("")] = true
			}
		}
	}
	return e.localAddrs[a]
}

func kernelErr(cmd ipvs.Command, errno unix.Errno) error {
	return &netlinkipvs.Error{Op: cmd, Err: errno}
}

// Apply simulates a table change, or runs any other write for real after
// bringing the live table up to date.
func (e *simExecutor) Apply(cmd *ipvsadmargs.Command, done func(error)) {
	e.start()
	switch cmd.Kind {
	case ipvsadmargs.KindAdd, ipvsadmargs.KindEdit, ipvsadmargs.KindDelete, ipvsadmargs.KindFlush,
		ipvsadmargs.KindAddDest, ipvsadmargs.KindEditDest, ipvsadmargs.KindDeleteDest:
		err := e.model.Apply(opOf(cmd))
		if err == nil {
			e.dirty = true
		}
		done(err)
		return
	case ipvsadmargs.KindZero, ipvsadmargs.KindStartDaemon:
		// Their outcome depends on the live table.
		e.Flush()
	}
	errs, err := e.b.Batch([]ipvs.Op{opOf(cmd)})
	var opErr error
	if len(errs) == 1 {
		opErr = errs[0]
	} else {
		opErr = err
	}
	if cmd.Kind == ipvsadmargs.KindStartDaemon || cmd.Kind == ipvsadmargs.KindStopDaemon {
		e.sync = nil // learn the daemons again when needed
	}
	done(opErr)
}

// schedulerOK and peOK tell the model whether a scheduler or persistence
// engine exists (ENOENT otherwise). Names in use in the live table exist;
// the others are asked of the kernel, in a scratch namespace (probeNames):
// all the names the input mentions at the first question.
func (e *simExecutor) schedulerOK(name string) bool {
	e.learnNames()
	if _, known := e.schedOK[name]; !known {
		// A name the scan of the input missed.
		e.probe([]string{name}, nil)
	}
	return e.schedOK[name]
}

func (e *simExecutor) peOK(name string) bool {
	e.learnNames()
	if _, known := e.peKnown[name]; !known {
		e.probe(nil, []string{name})
	}
	return e.peKnown[name]
}

func (e *simExecutor) learnNames() {
	if e.knownNames {
		return
	}
	e.knownNames = true
	e.schedOK, e.peKnown = map[string]bool{}, map[string]bool{}
	var inUse []ipvs.Service
	if l, err := e.readServices(); err == nil {
		for i := range l.len() {
			inUse = append(inUse, l.service(i))
		}
	}
	for _, s := range inUse {
		e.schedOK[s.Scheduler] = true
		if s.PEName != "" {
			e.peKnown[s.PEName] = true
		}
	}
	e.probe(inputNames(e.a.restoreInput))
}

// probe asks the kernel about the names not known yet. When no scratch
// namespace can be made the names are taken to exist; the kernel then
// refuses them when the difference is applied (see Flush).
func (e *simExecutor) probe(scheds, pes []string) {
	var qs, qp []string
	for _, n := range scheds {
		if _, ok := e.schedOK[n]; !ok && n != "" && !slices.Contains(qs, n) {
			qs = append(qs, n)
		}
	}
	for _, n := range pes {
		if _, ok := e.peKnown[n]; !ok && n != "" && !slices.Contains(qp, n) {
			qp = append(qp, n)
		}
	}
	if len(qs)+len(qp) == 0 {
		return
	}
	so, po, ok := e.a.probeNames(qs, qp)
	for _, n := range qs {
		e.schedOK[n] = !ok || so[n]
	}
	for _, n := range qp {
		e.peKnown[n] = !ok || po[n]
	}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

// inputNames scans the input for the scheduler and PE names it may use
// (the values after -s/--scheduler and --pe, and ipvsadm's default wlc),
// so that one probe answers for all of them.
func inputNames(in []byte) (scheds, pes []string) {
	seenS, seenP := map[string]bool{"wlc": true}, map[string]bool{}
	scheds = append(scheds, "wlc")
	var prev []byte
	for len(in) > 0 {
		// The next token, without holding a list of them all (the input
		// can be a million tokens).
		i := 0
		for i < len(in) && isBlank(in[i]) {
			i++
		}
		j := i
		for j < len(in) && !isBlank(in[j]) {
			j++
		}
		tok := in[i:j]
		in = in[j:]
		if len(tok) == 0 {
			break
		}
		var sched, pe []byte
		switch {
		case string(prev) == "-s" || string(prev) == "--scheduler":
			sched = tok
		case string(prev) == "--pe":
			pe = tok
		case bytes.HasPrefix(tok, []byte("--scheduler=")):
			sched = tok[12:]
		case bytes.HasPrefix(tok, []byte("--pe=")):
			pe = tok[5:]
		}
		if len(sched) > 0 && !seenS[string(sched)] && len(seenS) < 64 {
			seenS[string(sched)] = true
			scheds = append(scheds, string(sched))
		}
		if len(pe) > 0 && !seenP[string(pe)] && len(seenP) < 64 {
			seenP[string(pe)] = true
			pes = append(pes, string(pe))
		}
		prev = tok
	}
	return scheds, pes
}

// syncRunning reports whether a sync daemon runs (mixed-family
// destinations are then refused).
func (e *simExecutor) syncRunning() bool {
	if e.sync == nil {
		e.sync = map[ipvs.DaemonState]bool{}
		if ds, err := e.a.backend.Daemons(); err == nil {
			for _, d := range ds {
				e.sync[d.State] = true
			}
		}
	}
	return len(e.sync) > 0
}

// Flush makes the live table the simulated one: the difference only, sent
// in batches while it is worked out service by service (ipvsplan.Apply), so
// that neither the whole live table nor the whole plan is held. A change
// the kernel refuses (the simulation did not foresee it, or someone else
// changed the table) is reported in ipvsadm's words and makes the exit
// status 255.
func (e *simExecutor) Flush() {
	e.start()
	if !e.dirty {
		return
	}
	e.dirty = false
	cur, err := e.current()
	if err != nil {
		e.readFailed(err)
		return
	}
	res := ipvsplan.Apply(e.b, e.changes(cur, e.model.All(), &err), ipvsplan.ApplyOptions{
		KeepGoing: true,
		Refused: func(c ipvsplan.Change, err error) {
			e.a.errorf(ipvsadmargs.Strerror(changeFunc(c.Kind), errnoOf(err)) + "\n")
		},
	})
	e.liveServices = nil
	if err != nil {
		e.readFailed(err)
		return
	}
	if !res.OK() {
		e.a.status = 255
	}
}

func (e *simExecutor) readFailed(err error) {
	e.a.errorf(ipvsadmargs.Strerror(ipvsadmargs.FuncGetDests, errnoOf(err)) + "\n")
	e.a.status = 255
	e.liveServices = nil
}

// liveTable is the live table as Flush goes through it: n services,
// service i, and its destinations when asked.
type liveTable struct {
	n       int
	service func(i int) ipvs.Service
	dests   func(i int) ([]ipvs.Destination, error)
}

// current returns the kernel's live table, read exactly (one destination
// dump per service, when Flush comes to it) or, in fast mode, from
// /proc/net/ip_vs at once. It is read again at each Flush (a restore
// flushes once, unless its input lists, zeroes or starts daemons), so
// that only the model is held.
func (e *simExecutor) current() (liveTable, error) {
	if !e.exact {
		tab, err := e.a.readTable()
		if err != nil {
			return liveTable{}, err
		}
		return liveTable{
			n:       len(tab),
			service: func(i int) ipvs.Service { return tab[i].Service },
			dests:   func(i int) ([]ipvs.Destination, error) { return tab[i].Destinations, nil },
		}, nil
	}
	l, err := e.readServices()
	if err != nil {
		return liveTable{}, err
	}
	return liveTable{
		n:       l.len(),
		service: l.service,
		dests:   func(i int) ([]ipvs.Destination, error) { return e.a.backend.Destinations(l.service(i).Key()) },
	}, nil
}

// changes yields the changes that turn cur into want (the model's table),
// service by service in want's order, then the deletions of the services
// the model lacks. A failed read of destinations ends it and is left in
// *readErr.
func (e *simExecutor) changes(cur liveTable, want iter.Seq[ipvs.VirtualServer], readErr *error) iter.Seq[ipvsplan.Change] {
	return func(yield func(ipvsplan.Change) bool) {
		index := make(map[ipvs.ServiceKey]int, cur.n)
		for i := range cur.n {
			index[cur.service(i).Key()] = i
		}
		var buf []ipvsplan.Change
		for vs := range want {
			var old *ipvs.VirtualServer
			if i, ok := index[vs.Service.Key()]; ok {
				ds, err := cur.dests(i)
				if err != nil {
					*readErr = err
					return
				}
				old = &ipvs.VirtualServer{Service: cur.service(i), Destinations: ds}
			}
			buf = ipvsplan.AppendServiceChanges(buf[:0], old, vs)
			for _, c := range buf {
				if !yield(c) {
					return
				}
			}
		}
		for i := range cur.n {
			s := cur.service(i)
			if _, wanted := e.model.Service(s.Key()); !wanted {
				if !yield(ipvsplan.Change{Kind: ipvsplan.DeleteService, Service: s.Key(), OldService: s}) {
					return
				}
			}
		}
	}
}

func changeFunc(k ipvsplan.Kind) ipvsadmargs.Func {
	switch k {
	case ipvsplan.AddService:
		return ipvsadmargs.FuncAddService
	case ipvsplan.UpdateService:
		return ipvsadmargs.FuncUpdateService
	case ipvsplan.DeleteService:
		return ipvsadmargs.FuncDelService
	case ipvsplan.AddDest:
		return ipvsadmargs.FuncAddDest
	case ipvsplan.UpdateDest:
		return ipvsadmargs.FuncUpdateDest
	}
	return ipvsadmargs.FuncDelDest
}
