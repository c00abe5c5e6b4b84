package cmdutil

import (
	"fmt"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsconfig"
	"github.com/spf13/cobra"
)

// ServiceSelector reads a service from a positional argument
// (tcp:10.0.0.1:80, fwmark:7:v6) or from ipvsadm-style flags (-t, -u,
// --sctp-service, -f with -6).
type ServiceSelector struct {
	TCP, UDP, SCTP string
	FWMark         uint32
	IPv6           bool
}

// Register adds the ipvsadm-style flags to cmd.
func (s *ServiceSelector) Register(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVarP(&s.TCP, "tcp-service", "t", "", "TCP service `ADDR:PORT` (ipvsadm style)")
	fs.StringVarP(&s.UDP, "udp-service", "u", "", "UDP service `ADDR:PORT` (ipvsadm style)")
	fs.StringVar(&s.SCTP, "sctp-service", "", "SCTP service `ADDR:PORT` (ipvsadm style)")
	fs.Uint32VarP(&s.FWMark, "fwmark-service", "f", 0, "firewall-mark service `MARK` (ipvsadm style)")
	fs.BoolVarP(&s.IPv6, "ipv6", "6", false, "with -f: an IPv6 fwmark service")
}

// Given reports whether a selector flag was used.
func (s *ServiceSelector) Given() bool {
	return s.TCP != "" || s.UDP != "" || s.SCTP != "" || s.FWMark != 0
}

// ResolveArgs returns the service named by the first of a command's
// positional arguments (there may be none) or the flags.
func (s *ServiceSelector) ResolveArgs(args []string) (ipvs.ServiceKey, error) {
	if len(args) > 0 {
		return s.Resolve(args[0])
	}
	return s.Resolve("")
}

// Resolve returns the service named by arg (may be empty) or the flags.
func (s *ServiceSelector) Resolve(arg string) (ipvs.ServiceKey, error) {
	n := 0
	for _, v := range []bool{s.TCP != "", s.UDP != "", s.SCTP != "", s.FWMark != 0, arg != ""} {
		if v {
			n++
		}
	}
	switch {
	case n == 0:
		return ipvs.ServiceKey{}, FlagErrorf("no service given: name it as tcp:ADDR:PORT, udp:[V6]:PORT, sctp:ADDR:PORT or fwmark:N[:v6] (or -t/-u/--sctp-service/-f)")
	case n > 1:
		return ipvs.ServiceKey{}, FlagErrorf("give the service once (as an argument or one of -t/-u/--sctp-service/-f)")
	}
	if s.IPv6 && s.FWMark == 0 {
		return ipvs.ServiceKey{}, FlagErrorf("-6 goes with -f (fwmark services); other services take their family from the address")
	}
	var spec string
	switch {
	case arg != "":
		spec = arg
	case s.TCP != "":
		spec = "tcp:" + s.TCP
	case s.UDP != "":
		spec = "udp:" + s.UDP
	case s.SCTP != "":
		spec = "sctp:" + s.SCTP
	default:
		spec = fmt.Sprintf("fwmark:%d", s.FWMark)
		if s.IPv6 {
			spec += ":v6"
		}
	}
	k, err := ipvsconfig.ParseServiceKey(spec)
	if err != nil {
		return k, &FlagError{Err: err}
	}
	return k, nil
}

// ParseScope parses a --scope (ipvsconfig.ParseScope); a scope that does
// not parse is a usage error.
func ParseScope(s string) (*ipvsconfig.Scope, error) {
	sc, err := ipvsconfig.ParseScope(s)
	if err != nil {
		return nil, &FlagError{Err: err}
	}
	return sc, nil
}
