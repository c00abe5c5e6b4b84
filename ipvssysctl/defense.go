package ipvssysctl

import (
	"fmt"
	"syscall"

	"github.com/ipvs-tools/ipvs"
)

var (
	errEINVAL error = syscall.EINVAL
	errERANGE error = syscall.ERANGE
)

// DefenseMode is the value of drop_entry, drop_packet and secure_tcp.
//
// Modes 1 and 2 are one setting, "automatic", seen at two moments: once a
// second the kernel's update_defense_level rewrites 1 to 2 while memory is
// low (the defence is on) and 2 back to 1 when it recovers. So a reader
// must accept 2, and writing 1 may read back as 2 (and 2 as 1).
type DefenseMode int

// Defense modes.
const (
	// DefenseOff (0): the defence is never used.
	DefenseOff DefenseMode = 0
	// DefenseAutoIdle (1): automatic, currently off (memory is not low).
	DefenseAutoIdle DefenseMode = 1
	// DefenseAutoActive (2): automatic, currently on (memory is low).
	DefenseAutoActive DefenseMode = 2
	// DefenseAlways (3): always on.
	DefenseAlways DefenseMode = 3
)

// String returns "off", "auto (idle)", "auto (active)" or "always".
func (m DefenseMode) String() string { return defenseModeNames.Name(m, "mode(%d)") }

var defenseModeNames = ipvs.NameTable[DefenseMode]{
	DefenseOff: "off", DefenseAutoIdle: "auto (idle)", DefenseAutoActive: "auto (active)", DefenseAlways: "always",
}

// Auto reports whether m is the automatic setting (1 or 2).
func (m DefenseMode) Auto() bool { return m == DefenseAutoIdle || m == DefenseAutoActive }

// Active reports whether the defence is in effect now (2 or 3).
func (m DefenseMode) Active() bool { return m == DefenseAutoActive || m == DefenseAlways }

// Defense is the DoS-defense group of sysctls.
type Defense struct {
	// AMemThresh is amemthresh, in pages.
	AMemThresh int64
	// AMDropRate is am_droprate.
	AMDropRate int64
	// DropEntry, DropPacket and SecureTCP are the three defences.
	DropEntry  DefenseMode
	DropPacket DefenseMode
	SecureTCP  DefenseMode
}

// Defense reads the DoS-defense group.
func (s *Sysctls) Defense() (Defense, error) {
	var d Defense
	var err error
	if d.AMemThresh, err = s.GetInt("amemthresh"); err != nil {
		return d, err
	}
	if d.AMDropRate, err = s.GetInt("am_droprate"); err != nil {
		return d, err
	}
	for _, m := range []struct {
		name string
		p    *DefenseMode
	}{{"drop_entry", &d.DropEntry}, {"drop_packet", &d.DropPacket}, {"secure_tcp", &d.SecureTCP}} {
		n, err := s.GetInt(m.name)
		if err != nil {
			return d, err
		}
		if n < 0 || n > 3 {
			return d, &Error{Name: m.name, Op: "get", Reason: fmt.Sprintf("value %d is not a defense mode (0..3)", n), Err: ErrInvalid}
		}
		*m.p = DefenseMode(n)
	}
	return d, nil
}

// SetDefense writes the whole group after validating every value (nothing
// is written if one is invalid). Each defence is written as given; 1 and
// 2 both select the automatic mode (see DefenseMode).
func (s *Sysctls) SetDefense(d Defense) error {
	vals := []struct {
		name string
		v    int64
	}{
		{"amemthresh", d.AMemThresh}, {"am_droprate", d.AMDropRate},
		{"drop_entry", int64(d.DropEntry)}, {"drop_packet", int64(d.DropPacket)}, {"secure_tcp", int64(d.SecureTCP)},
	}
	for _, v := range vals {
		if err := Validate(v.name, fmt.Sprint(v.v)); err != nil {
			return err
		}
	}
	for _, v := range vals {
		if err := s.SetInt(v.name, v.v); err != nil {
			return err
		}
	}
	return nil
}

// SetDefenseMode sets one of drop_entry, drop_packet or secure_tcp.
func (s *Sysctls) SetDefenseMode(name string, m DefenseMode) error {
	if info, ok := Lookup(name); !ok || info.Kind != KindDefense {
		return &Error{Name: name, Op: "set", Value: fmt.Sprint(int(m)), Reason: "not a defense-mode sysctl (drop_entry, drop_packet, secure_tcp)", Err: ErrInvalid}
	}
	return s.SetInt(name, int64(m))
}
