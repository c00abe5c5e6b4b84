package main

import (
	"bytes"
	"io"
	"net/netip"
	"os"
	"runtime/debug"
	"slices"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
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
// scope), sent in batches, whenever the input needs the kernel's view:
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
// plus the newline echo adds.
func scriptInput(in []byte) []byte {
	var out []byte
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

// restoreScript is ipvsadm-restore.
func (a *app) restoreScript() int {
	data, _ := io.ReadAll(a.stdin)
	a.stdin = bytes.NewReader(scriptInput(data))
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
	// Two tables of up to 100,000s of destinations: keep the heap tight.
	debug.SetGCPercent(50)
	sim := &simExecutor{a: a, b: bt, exact: os.Getenv(fastReadEnv) == ""}
	a.exec = sim
	a.restoreExec = sim
	o := a.restore("ipvsadm")
	return a.finish(o)
}

// finish ends a run as main does after process.
func (a *app) finish(o outcome) int {
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
	// live is the live table as last read or written; model the
	// simulated one.
	live  []ipvs.VirtualServer
	model *ipvsmodel.Model
	dirty bool
	// stale: a change failed unexpectedly, so live must be read again.
	stale bool

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
		Local:       func(a netip.Addr) bool { return e.localAddrs[a] },
		SyncRunning: e.syncRunning,
	})
	e.readLive()
	e.dirty = true // the simulation starts from an empty table
}

func (e *simExecutor) readLive() {
	t, err := e.a.readTable(e.exact)
	if err != nil {
		e.a.errorf(ipvsadmargs.Strerror(ipvsadmargs.FuncGetDests, errnoOf(err)) + "\n")
		t = nil
	}
	e.live = t
	e.stale = false
	e.localAddrs = map[netip.Addr]bool{}
	for _, vs := range t {
		for _, d := range vs.Destinations {
			e.localAddrs[d.Address] = true // accepted by the kernel before
		}
	}
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
	for _, vs := range e.live {
		e.schedOK[vs.Service.Scheduler] = true
		if vs.Service.PEName != "" {
			e.peKnown[vs.Service.PEName] = true
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

// inputNames scans the input for the scheduler and PE names it may use
// (the values after -s/--scheduler and --pe, and ipvsadm's default wlc),
// so that one probe answers for all of them.
func inputNames(in []byte) (scheds, pes []string) {
	seenS, seenP := map[string]bool{"wlc": true}, map[string]bool{}
	scheds = append(scheds, "wlc")
	prev := ""
	for _, t := range bytes.FieldsFunc(in, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }) {
		tok := string(t)
		var sched, pe string
		switch {
		case prev == "-s" || prev == "--scheduler":
			sched = tok
		case prev == "--pe":
			pe = tok
		case len(tok) > 12 && tok[:12] == "--scheduler=":
			sched = tok[12:]
		case len(tok) > 5 && tok[:5] == "--pe=":
			pe = tok[5:]
		}
		if sched != "" && !seenS[sched] && len(seenS) < 64 {
			seenS[sched] = true
			scheds = append(scheds, sched)
		}
		if pe != "" && !seenP[pe] && len(seenP) < 64 {
			seenP[pe] = true
			pes = append(pes, pe)
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

// Flush makes the live table the simulated one: the difference only, in
// batches. A change the kernel refuses (the simulation did not foresee
// it, or someone else changed the table) is reported in ipvsadm's words
// and makes the exit status 255.
func (e *simExecutor) Flush() {
	e.start()
	if !e.dirty {
		return
	}
	if e.stale {
		e.readLive()
	}
	want := e.model.Snapshot()
	plan, err := ipvsplan.Diff(e.live, want, ipvsplan.Options{Prune: true})
	if err != nil {
		e.a.errorf(err.Error() + "\n")
		e.a.status = 255
		return
	}
	e.dirty = false
	if plan.Empty() {
		return
	}
	errs, err := e.b.Batch(plan.Ops())
	failed := err != nil
	for i, c := range plan.Changes {
		if i < len(errs) && errs[i] != nil {
			failed = true
			e.a.errorf(ipvsadmargs.Strerror(changeFunc(c.Kind), errnoOf(errs[i])) + "\n")
		}
	}
	if failed {
		e.a.status = 255
		e.stale = true
		return
	}
	// The live table is now the simulated one; they share the
	// destination slices until the model changes one (copy on write).
	e.live = want
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
