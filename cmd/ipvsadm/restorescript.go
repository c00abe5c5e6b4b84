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
	"github.com/ipvs-tools/ipvs/ipvsplan"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// ipvsadm-restore: the C package's script runs
//
//	INPUT="$(grep -v '^#')"; ipvsadm -C; echo "$INPUT" | ipvsadm -R
//
// which empties the live table and rebuilds it line by line. Ours reaches
// the same table without emptying it: the input's table changes are
// simulated, from an empty table, the way the kernel would carry them out
// (with its errors, printed where ipvsadm -R prints them), and the live
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

// simService is a service of the simulated table with its destinations in
// the order they were added.
type simService struct {
	svc   ipvs.Service
	dests []ipvs.Destination
	// shared: dests is also the live table's (after a flush); copy
	// before changing it.
	shared bool
}

// ownDests makes s.dests the simulation's own.
func (s *simService) ownDests() {
	if s.shared {
		s.dests = slices.Clone(s.dests)
		s.shared = false
	}
}

// simExecutor is the Executor of ipvsadm-restore (see above).
type simExecutor struct {
	a     *app
	b     Batcher
	exact bool

	started bool
	// live is the live table as last read or written; desired the
	// simulated one (index by identity, nil entries deleted).
	live    []ipvs.VirtualServer
	desired []*simService
	index   map[ipvs.ServiceKey]int
	dirty   bool
	// stale: a change failed unexpectedly, so live must be read again.
	stale bool

	// Kernel facts the simulation needs, learned when first needed.
	schedOK, peOK map[string]bool
	knownNames    bool
	sync          map[ipvs.DaemonState]bool
	localAddrs    map[netip.Addr]bool
}

func (e *simExecutor) start() {
	if e.started {
		return
	}
	e.started = true
	e.index = map[ipvs.ServiceKey]int{}
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
		err := e.simulate(cmd)
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

func (e *simExecutor) find(k ipvs.ServiceKey) *simService {
	if i, ok := e.index[k]; ok {
		return e.desired[i]
	}
	return nil
}

// simulate is the kernel's handling of one table change (ip_vs_ctl.c of
// Linux 6.1: ip_vs_genl_set_cmd and the add/edit/del functions), in the
// kernel's order of checks.
func (e *simExecutor) simulate(cmd *ipvsadmargs.Command) error {
	k := cmd.ServiceKey()
	s := e.find(k)
	switch cmd.Kind {
	case ipvsadmargs.KindFlush:
		e.desired = e.desired[:0]
		clear(e.index)
		return nil
	case ipvsadmargs.KindAdd:
		if s != nil {
			return kernelErr(ipvs.CmdNewService, unix.EEXIST)
		}
		if !e.nameOK(cmd.Service) {
			return kernelErr(ipvs.CmdNewService, unix.ENOENT)
		}
		svc := cmd.Service
		if svc.FWMark != 0 {
			svc.Protocol = 0
		}
		e.index[k] = len(e.desired)
		e.desired = append(e.desired, &simService{svc: svc})
		return nil
	}
	if s == nil {
		switch cmd.Kind {
		case ipvsadmargs.KindEdit:
			return kernelErr(ipvs.CmdSetService, unix.ESRCH)
		case ipvsadmargs.KindDelete:
			return kernelErr(ipvs.CmdDelService, unix.ESRCH)
		default:
			return kernelErr(ipvs.CmdNewDest, unix.ESRCH)
		}
	}
	d := cmd.Destination
	if d.Family == 0 {
		d.Family = s.svc.Family
	}
	dk := d.Key()
	di := slices.IndexFunc(s.dests, func(x ipvs.Destination) bool { return x.Key() == dk })
	switch cmd.Kind {
	case ipvsadmargs.KindEdit:
		if !e.nameOK(cmd.Service) {
			return kernelErr(ipvs.CmdSetService, unix.ENOENT)
		}
		svc := cmd.Service
		if svc.FWMark != 0 {
			svc.Protocol = 0
		}
		s.svc = svc
		return nil
	case ipvsadmargs.KindDelete:
		e.desired[e.index[k]] = nil
		delete(e.index, k)
		return nil
	case ipvsadmargs.KindDeleteDest:
		if di < 0 {
			return kernelErr(ipvs.CmdDelDest, unix.ENOENT)
		}
		s.ownDests()
		s.dests = slices.Delete(s.dests, di, di+1)
		return nil
	}
	// NEW_DEST and SET_DEST.
	op := ipvs.CmdNewDest
	if cmd.Kind == ipvsadmargs.KindEditDest {
		op = ipvs.CmdSetDest
	}
	if d.Family != s.svc.Family && e.syncRunning() {
		return kernelErr(op, unix.EINVAL)
	}
	if d.LowerThreshold > d.UpperThreshold {
		return kernelErr(op, unix.ERANGE)
	}
	if d.TunnelType == ipvs.TunnelGUE && d.TunnelPort == 0 {
		return kernelErr(op, unix.EINVAL)
	}
	if cmd.Kind == ipvsadmargs.KindEditDest {
		if di < 0 {
			return kernelErr(op, unix.ENOENT)
		}
		s.ownDests()
		s.dests[di] = d
		return nil
	}
	if di >= 0 {
		return kernelErr(op, unix.EEXIST)
	}
	if !e.destAddrOK(d) {
		return kernelErr(op, unix.EINVAL)
	}
	s.ownDests()
	s.dests = append(s.dests, d)
	return nil
}

// nameOK reports whether the service's scheduler and PE exist (ENOENT
// otherwise). Names in use in the live table exist; the others are asked
// of the kernel once, in a scratch namespace (probeNames).
func (e *simExecutor) nameOK(s ipvs.Service) bool {
	if !e.knownNames {
		e.knownNames = true
		e.schedOK, e.peOK = map[string]bool{"none": true}, map[string]bool{}
		for _, vs := range e.live {
			e.schedOK[vs.Service.Scheduler] = true
			if vs.Service.PEName != "" {
				e.peOK[vs.Service.PEName] = true
			}
		}
		e.probe(inputNames(e.a.restoreInput))
	}
	_, knownS := e.schedOK[s.Scheduler]
	_, knownP := e.peOK[s.PEName]
	if !knownS || (s.PEName != "" && !knownP) {
		// A name the scan of the input missed.
		e.probe([]string{s.Scheduler}, []string{s.PEName})
	}
	if ok, known := e.schedOK[s.Scheduler]; known && !ok {
		return false
	}
	if s.PEName != "" {
		if ok, known := e.peOK[s.PEName]; known && !ok {
			return false
		}
	}
	return true
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
		if _, ok := e.peOK[n]; !ok && n != "" && !slices.Contains(qp, n) {
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
		e.peOK[n] = !ok || po[n]
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

// destAddrOK is the kernel's address check for a new destination
// (ip_vs_new_dest): IPv4 must not be multicast, 255.255.255.255 or 0.0.0.0
// (inet_addr_type; 0.x.y.z is unicast to Linux 6.1);
// IPv6 must be unicast and not link-local (ipv6_addr_type), unless the
// address is local. Addresses the live table holds were accepted before.
func (e *simExecutor) destAddrOK(d ipvs.Destination) bool {
	a := d.Address
	if e.localAddrs[a] {
		return true
	}
	if d.Family == ipvs.AFInet6 {
		b := a.As16()
		switch {
		case b[0] == 0xff: // multicast
			return false
		case b[0] == 0xfe && b[1]&0xc0 == 0x80: // link-local
			return false
		case a.Is4In6(): // IPV6_ADDR_MAPPED is not unicast
			return false
		case a.IsUnspecified():
			return false
		}
		return true
	}
	b := a.As4()
	switch {
	case b[0]&0xf0 == 0xe0: // multicast
		return false
	case b == [4]byte{}:
		return false
	case b == [4]byte{255, 255, 255, 255}:
		return false
	}
	return true
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

// table returns the simulated table.
func (e *simExecutor) table() []ipvs.VirtualServer {
	out := make([]ipvs.VirtualServer, 0, len(e.index))
	for _, s := range e.desired {
		if s != nil {
			out = append(out, ipvs.VirtualServer{Service: s.svc, Destinations: s.dests})
		}
	}
	return out
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
	want := e.table()
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
	// destination slices until the simulation changes one (ownDests).
	e.live = want
	for _, s := range e.desired {
		if s != nil {
			s.shared = true
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
