package main

import (
	"os"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs/netlinkipvs"
)

// probeNames asks the kernel which of the scheduler and persistence engine
// names exist, without touching the live table: it adds one firewall-mark
// service per name in a new, empty network namespace that disappears
// afterwards. Schedulers and PEs are global (their modules are loaded on
// demand, as ipvsadm's own request would load them), so the answers hold
// for the live namespace. ok is false when no namespace could be made.
func probeNamesInScratchNS(scheds, pes []string) (schedOK, peOK map[string]bool, ok bool) {
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread is never unlocked: it ends with the goroutine,
		// together with its namespace.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ch <- result{-1, err}
			return
		}
		fd, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		ch <- result{fd, err}
	}()
	r := <-ch
	if r.err != nil {
		return nil, nil, false
	}
	defer unix.Close(r.fd)
	c, err := netlinkipvs.New(netlinkipvs.WithNetNS("/proc/" + strconv.Itoa(os.Getpid()) + "/fd/" + strconv.Itoa(r.fd)))
	if err != nil {
		return nil, nil, false
	}
	defer c.Close()
	var ops []netlinkipvs.Op
	mark := uint32(1)
	for _, s := range scheds {
		ops = append(ops, netlinkipvs.Op{Cmd: netlinkipvs.CmdNewService, Service: netlinkipvs.Service{
			Family: netlinkipvs.AFInet, FWMark: mark, Scheduler: s, Netmask: 0xffffffff}})
		mark++
	}
	for _, p := range pes {
		ops = append(ops, netlinkipvs.Op{Cmd: netlinkipvs.CmdNewService, Service: netlinkipvs.Service{
			Family: netlinkipvs.AFInet, FWMark: mark, Scheduler: "none", Netmask: 0xffffffff,
			Flags: netlinkipvs.SvcPersistent, Timeout: 300, PEName: p}})
		mark++
	}
	errs, err := c.Batch(ops)
	if err != nil {
		return nil, nil, false
	}
	schedOK, peOK = map[string]bool{}, map[string]bool{}
	for i, s := range scheds {
		schedOK[s] = errs[i] == nil
	}
	for i, p := range pes {
		peOK[p] = errs[len(scheds)+i] == nil
	}
	return schedOK, peOK, true
}
