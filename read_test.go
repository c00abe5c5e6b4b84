package ipvs_test

import (
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/ipvsmodel"
)

// countingReader is the kernel model as an ipvs.Reader, counting dumps.
type countingReader struct {
	m     *ipvsmodel.Model
	dumps int
}

func (r *countingReader) Services() ([]ipvs.Service, error) { r.dumps++; return r.m.Services(), nil }
func (r *countingReader) Destinations(k ipvs.ServiceKey) ([]ipvs.Destination, error) {
	r.dumps++
	ds, _ := r.m.Destinations(k)
	return ds, nil
}

func TestReadTable(t *testing.T) {
	m := ipvsmodel.New(ipvsmodel.Kernel{})
	var keys []ipvs.ServiceKey
	for _, port := range []uint16{80, 443, 8080} {
		s := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: port, Scheduler: "rr", Netmask: 0xffffffff}
		d := ipvs.Destination{Address: netip.MustParseAddr("192.168.0.1"), Port: port, Weight: 1}
		for _, op := range []ipvs.Op{{Cmd: ipvs.CmdNewService, Service: s}, {Cmd: ipvs.CmdNewDest, Service: s, Destination: d}} {
			if err := m.Apply(op); err != nil {
				t.Fatal(err)
			}
		}
		keys = append(keys, s.Key())
	}
	for _, c := range []struct {
		name  string
		match func(ipvs.ServiceKey) bool
		want  []ipvs.VirtualServer
		dumps int
	}{
		{"all", nil, m.Table(), 4},
		{"one", func(k ipvs.ServiceKey) bool { return k == keys[1] }, m.Table()[1:2], 2},
		{"none", func(ipvs.ServiceKey) bool { return false }, []ipvs.VirtualServer{}, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &countingReader{m: m}
			got, err := ipvs.ReadTable(r, c.match)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got, cmpopts.EquateComparable(netip.Addr{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if r.dumps != c.dumps {
				t.Errorf("%d dumps, want %d (one of services, one per matching service)", r.dumps, c.dumps)
			}
		})
	}
}
