package netlinkipvs

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"testing"

	"github.com/ipvs-tools/ipvs"
	"github.com/mdlayher/genetlink"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

func TestBatchMatchesAcks(t *testing.T) {
	var (
		seen    []ipvs.Command
		acked   []bool
		failing = map[int]unix.Errno{3: unix.EEXIST, 7: unix.ESRCH, 9: unix.EINVAL}
	)
	c, fs := newFakeClient(t, func(greq genetlink.Message, nreq netlink.Message) ([]genetlink.Message, error) {
		i := len(seen)
		seen = append(seen, ipvs.Command(greq.Header.Command))
		acked = append(acked, nreq.Header.Flags&netlink.Acknowledge != 0)
		if e, ok := failing[i]; ok {
			return nil, e
		}
		return nil, nil
	})
	c.window = 4

	var ops []ipvs.Op
	for i := 0; i < 10; i++ {
		s := tcpSvc
		s.Port = uint16(1000 + i)
		if i%2 == 0 {
			ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewService, Service: s})
		} else {
			ops = append(ops, ipvs.Op{Cmd: ipvs.CmdNewDest, Service: s, Destination: ipvs.Destination{Address: netip.MustParseAddr("192.0.2.1"), Port: 80, Weight: 1}})
		}
	}
	errs, err := c.Batch(ops)
	if err != nil {
		t.Fatalf("Batch: %v", err)
	}
	if len(errs) != len(ops) {
		t.Fatalf("got %d results for %d ops", len(errs), len(ops))
	}
	for i, e := range errs {
		want, fails := failing[i]
		switch {
		case fails && !errors.Is(e, want):
			t.Errorf("op %d: error %v, want %v", i, e, want)
		case fails:
			var ie *Error
			if !errors.As(e, &ie) || ie.Op != ops[i].Cmd {
				t.Errorf("op %d: error %v does not name %s", i, e, ops[i].Cmd)
			}
		case e != nil:
			t.Errorf("op %d: unexpected error %v", i, e)
		}
	}
	if fs.sends != 3 {
		t.Errorf("%d sendmsg calls for 10 ops in windows of 4, want 3", fs.sends)
	}
	// Only the last message of each window asks for an acknowledgement.
	wantAck := []bool{false, false, false, true, false, false, false, true, false, true}
	for i := range acked {
		if acked[i] != wantAck[i] {
			t.Errorf("message %d: NLM_F_ACK = %v, want %v", i, acked[i], wantAck[i])
		}
	}
	if !errors.Is(errs[7], os.ErrNotExist) {
		t.Errorf("ESRCH should be os.ErrNotExist")
	}
	// Every op is a write request, refused or not; then one read.
	if got, want := c.Requests(), (Requests{Writes: 10}); got != want {
		t.Errorf("Requests after the batch = %+v, want %+v", got, want)
	}
	c.Services()
	if got, want := c.Requests(), (Requests{Reads: 1, Writes: 10}); got != want {
		t.Errorf("Requests after a dump = %+v, want %+v", got, want)
	}
}

func TestBatchRejectsReads(t *testing.T) {
	c, fs := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	if _, err := c.Batch([]ipvs.Op{{Cmd: ipvs.CmdFlush}, {Cmd: ipvs.CmdGetService}}); err == nil {
		t.Fatal("a dump command was accepted in a batch")
	}
	if fs.requests != 0 {
		t.Errorf("%d requests were sent before the batch was refused", fs.requests)
	}
}

func TestBatchByteLimit(t *testing.T) {
	c, fs := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	c.window = 100000
	ops := make([]ipvs.Op, 5000)
	for i := range ops {
		s := tcpSvc
		s.Port = uint16(i)
		ops[i] = ipvs.Op{Cmd: ipvs.CmdNewService, Service: s}
	}
	mustBatch(t, c, ops)
	size := 16 + 4 + len(encodeOp(ops[0]))
	wantSends := (5000 + maxBatchBytes/size - 1) / (maxBatchBytes / size)
	if fs.sends != wantSends || fs.requests != 5000 {
		t.Errorf("sends=%d requests=%d, want %d sends of at most %d bytes", fs.sends, fs.requests, wantSends, maxBatchBytes)
	}
}

func TestBatchTransportFailure(t *testing.T) {
	c, fs := newFakeClient(t, func(genetlink.Message, netlink.Message) ([]genetlink.Message, error) { return nil, nil })
	c.t = &silentSocket{fakeSocket: fs}
	ops := []ipvs.Op{{Cmd: ipvs.CmdFlush}, {Cmd: ipvs.CmdZero, AllServices: true}}
	errs, err := c.Batch(ops)
	if err == nil {
		t.Fatal("Batch succeeded without answers")
	}
	for i, e := range errs {
		if e == nil {
			t.Errorf("op %d has no error although its outcome is unknown", i)
		}
	}
}

func ExampleClient_Batch() {
	c, err := New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close()
	svc := ipvs.Service{Family: ipvs.AFInet, Protocol: ipvs.ProtoTCP, Address: netip.MustParseAddr("10.0.0.1"), Port: 80,
		Scheduler: "rr", Netmask: 0xffffffff}
	errs, err := c.Batch([]ipvs.Op{
		{Cmd: ipvs.CmdNewService, Service: svc},
		{Cmd: ipvs.CmdNewDest, Service: svc, Destination: ipvs.Destination{
			Address: netip.MustParseAddr("192.168.0.1"), Port: 80, ForwardMethod: ipvs.FwdMasq, Weight: 1}},
	})
	for i, e := range errs {
		if e != nil {
			fmt.Printf("op %d: %v\n", i, e)
		}
	}
	if err != nil {
		fmt.Println(err)
	}
}

// mustBatch sends ops as one batch and fails the test unless every one
// succeeds.
func mustBatch(t *testing.T, c *Client, ops []ipvs.Op) {
	t.Helper()
	errs, err := c.Batch(ops)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range errs {
		if e != nil {
			t.Fatalf("op %d: %v", i, e)
		}
	}
}
