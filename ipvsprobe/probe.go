package ipvsprobe

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/netlinkipvs"
	"github.com/ipvs-tools/ipvs/netns"
)

// Request names the features to try.
type Request struct {
	// Schedulers are scheduler names ("rr", "twos", ...).
	Schedulers []string
	// PEs are persistence engine names ("sip").
	PEs []string
	// Tunnels are encapsulations of tunnelling destinations.
	Tunnels []ipvs.TunnelType
}

// Report is what the kernel did with a Request.
type Report struct {
	// Kernel is the kernel's release (uname -r).
	Kernel string
	// Schedulers, PEs and Tunnels are the requested features that the
	// kernel has, in the order asked.
	Schedulers []string
	PEs        []string
	Tunnels    []ipvs.TunnelType
	// MissingSchedulers, MissingPEs and MissingTunnels are those it lacks.
	MissingSchedulers []string
	MissingPEs        []string
	MissingTunnels    []ipvs.TunnelType
}

// Err returns an *UnsupportedError naming every missing feature, or nil.
func (r *Report) Err() error {
	if len(r.MissingSchedulers)+len(r.MissingPEs)+len(r.MissingTunnels) == 0 {
		return nil
	}
	e := &UnsupportedError{Kernel: r.Kernel}
	for _, s := range r.MissingSchedulers {
		e.Features = append(e.Features, fmt.Sprintf("the %s scheduler (no ip_vs_%s module)", s, s))
	}
	for _, p := range r.MissingPEs {
		e.Features = append(e.Features, fmt.Sprintf("the %s persistence engine (no ip_vs_pe_%s module)", p, p))
	}
	for _, t := range r.MissingTunnels {
		e.Features = append(e.Features, fmt.Sprintf("%s tunnels (%s)", t, tunnelSince[t]))
	}
	return e
}

// tunnelSince says which kernels have each encapsulation.
var tunnelSince = map[ipvs.TunnelType]string{
	ipvs.TunnelIPIP: "every kernel",
	ipvs.TunnelGUE:  "Linux 5.2 and later",
	ipvs.TunnelGRE:  "Linux 5.3 and later",
}

// UnsupportedError reports features the running kernel lacks. It matches
// errors.ErrUnsupported.
type UnsupportedError struct {
	// Kernel is the kernel's release (uname -r).
	Kernel string
	// Features describe what is missing, e.g. "the twos scheduler (no
	// ip_vs_twos module)".
	Features []string
}

// Error implements error.
func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("this kernel (%s) lacks %s", e.Kernel, strings.Join(e.Features, ", "))
}

// Is makes the error match errors.ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == errors.ErrUnsupported }

// Kernel returns the running kernel's release (uname -r).
func Kernel() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown"
	}
	return unix.ByteSliceToString(u.Release[:])
}

// Probe tries the requested features in a scratch network namespace and
// reports which the kernel has. Duplicates in the request are tried once.
// An error means the probe itself failed (no IPVS, no privilege to create
// a namespace: errors.Is(err, os.ErrPermission)), not that a feature is
// missing.
func Probe(req Request) (*Report, error) {
	rep := &Report{Kernel: Kernel()}
	scheds, pes, tunnels := compact(req.Schedulers), compact(req.PEs), compact(req.Tunnels)
	if len(scheds)+len(pes)+len(tunnels) == 0 {
		return rep, nil
	}
	err := netns.Scratch(func(path string) error {
		c, err := netlinkipvs.New(netlinkipvs.WithNetNS(path))
		if err != nil {
			return err
		}
		defer c.Close()
		if err := probeNames(c, rep, scheds, pes); err != nil {
			return err
		}
		if len(tunnels) == 0 {
			return nil
		}
		if err := netns.LoopbackUp(path); err != nil {
			return err
		}
		return probeTunnels(c, rep, tunnels)
	})
	if err != nil {
		return nil, fmt.Errorf("probing the kernel's IPVS features: %w", err)
	}
	return rep, nil
}

// probeNames adds one firewall-mark service per scheduler and per
// persistence engine, in one batch: ENOENT means the kernel has no such
// module (it loads one it has, as a real request would).
func probeNames(c *netlinkipvs.Client, rep *Report, scheds, pes []string) error {
	if len(scheds)+len(pes) == 0 {
		return nil
	}
	var ops []ipvs.Op
	mark := uint32(1)
	add := func(s ipvs.Service) {
		s.Family, s.FWMark, s.Netmask = ipvs.AFInet, mark, 0xffffffff
		ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
		mark++
	}
	for _, s := range scheds {
		add(ipvs.Service{Scheduler: s})
	}
	for _, p := range pes {
		add(ipvs.Service{Scheduler: "rr", Flags: ipvs.SvcPersistent, Timeout: 300, PEName: p})
	}
	errs, err := c.Batch(ops)
	if err != nil {
		return fmt.Errorf("trying schedulers and persistence engines: %w", err)
	}
	// ENOENT is a missing module; any other refusal (a name the kernel
	// will not take) marks the name unusable too.
	record := func(name string, err error, have, missing *[]string) {
		if err == nil {
			*have = append(*have, name)
		} else {
			*missing = append(*missing, name)
		}
	}
	for i, s := range scheds {
		record(s, errs[i], &rep.Schedulers, &rep.MissingSchedulers)
	}
	for i, p := range pes {
		record(p, errs[len(scheds)+i], &rep.PEs, &rep.MissingPEs)
	}
	return nil
}

// probeTunnels adds a tunnel destination of each type and reads them
// back: a kernel that does not know the tunnel attributes ignores them, and
// the destination comes back as IPIP.
func probeTunnels(c *netlinkipvs.Client, rep *Report, tunnels []ipvs.TunnelType) error {
	svc := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP,
		Address: netip.AddrFrom4([4]byte{192, 0, 2, 1}), Port: 80, Scheduler: "rr", Netmask: 0xffffffff}
	if err := c.NewService(svc); err != nil {
		return fmt.Errorf("trying tunnels: %w", err)
	}
	for i, t := range tunnels {
		if err := c.NewDestination(svc.Key(), probeTunnel(i, t)); err != nil {
			return fmt.Errorf("trying %s tunnels: %w", t, err)
		}
	}
	got, err := c.Destinations(svc.Key())
	if err != nil {
		return fmt.Errorf("reading the tunnel destinations back: %w", err)
	}
	for i, t := range tunnels {
		want := probeTunnel(i, t)
		j := slices.IndexFunc(got, func(d ipvs.Destination) bool { return d.Address == want.Address })
		if j >= 0 && got[j].TunnelType == t && got[j].TunnelPort == want.TunnelPort {
			rep.Tunnels = append(rep.Tunnels, t)
		} else {
			rep.MissingTunnels = append(rep.MissingTunnels, t)
		}
	}
	return nil
}

// probeTunnel is the i-th tunnel destination tried, of type t, on a
// documentation address (TEST-NET-1).
func probeTunnel(i int, t ipvs.TunnelType) ipvs.Destination {
	d := ipvs.Destination{Address: netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i)}), Port: 80,
		ForwardMethod: ipvs.FwdTunnel, Weight: 1, TunnelType: t}
	if t == ipvs.TunnelGUE {
		d.TunnelPort = 6080
	}
	return d
}

// compact returns the distinct values of s, in their first order.
func compact[T comparable](s []T) []T {
	var out []T
	for _, v := range s {
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}
