package rulesfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ipvs-tools/ipvs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmargs"
	"github.com/ipvs-tools/ipvs/internal/ipvsadmfmt"
	"github.com/ipvs-tools/ipvs/internal/nss"
)

// Rule is one command of a rules file.
type Rule struct {
	// Line is the 1-based line number in the file.
	Line int
	// Command is the parsed line, with ipvsadm's defaults applied.
	Command *ipvsadmargs.Command
}

// File is a parsed rules file.
type File struct {
	// Name names the input in errors.
	Name string
	// Rules in file order.
	Rules []Rule
}

// Error is a problem with one line of a rules file.
type Error struct {
	Name string
	Line int
	// Msg is ipvsadm's message for the line, without the newline.
	Msg string
}

func (e *Error) Error() string {
	return e.Name + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Names resolves host and service names in rules files without -n and
// names them when formatting. *nss.DB implements it with glibc's "files"
// semantics (/etc/hosts, /etc/services).
type Names interface {
	LookupHost(name string) ([4]byte, bool)
	LookupService(name, proto string) (uint16, bool)
	ipvsadmfmt.Resolver
}

// Option configures Parse.
type Option func(*options)

type options struct {
	names Names
}

// WithNames resolves names with n instead of the system's files.
func WithNames(n Names) Option { return func(o *options) { o.names = n } }

// Parse reads a rules file. name is used in errors. The first line that is
// not a valid ipvsadm command line is an *Error with its line number and
// ipvsadm's message.
func Parse(r io.Reader, name string, opts ...Option) (*File, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.names == nil {
		o.names = nss.System()
	}
	env := ipvsadmargs.Env{LookupHost: o.names.LookupHost, LookupService: o.names.LookupService}
	f := &File{Name: name}
	br := bufio.NewReaderSize(r, 64<<10)
	var argv []string
	// Commands are allocated in slabs, not one by one.
	var slab []ipvsadmargs.Command
	for line := 1; ; line++ {
		text, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			// A line longer than the buffer: collect it whole.
			long := append([]byte(nil), text...)
			for err == bufio.ErrBufferFull {
				text, err = br.ReadSlice('\n')
				long = append(long, text...)
			}
			text = long
		}
		if len(text) > 0 && text[0] != '#' {
			argv = tokens(argv[:0], text)
			if len(argv) > 1 {
				if len(slab) == 0 {
					slab = make([]ipvsadmargs.Command, 1024)
				}
				cmd := &slab[0]
				perr := ipvsadmargs.ParseInto(cmd, argv, env)
				if perr != nil {
					var pe *ipvsadmargs.Error
					msg := perr.Error()
					if errors.As(perr, &pe) {
						msg = pe.Msg
					}
					return f, &Error{Name: name, Line: line, Msg: strings.TrimRight(msg, "\n")}
				}
				slab = slab[1:]
				f.Rules = append(f.Rules, Rule{Line: line, Command: cmd})
			}
		}
		if err == io.EOF {
			return f, nil
		}
		if err != nil {
			return f, fmt.Errorf("%s: %w", name, err)
		}
	}
}

// tokens splits a line as ipvsadm -R does, with argv[0] "ipvsadm", and
// applies the two save-format fixes (signed fwmarks, trailing "-b"). The
// tokens share one string.
func tokens(argv []string, line []byte) []string {
	argv = appendTokens(append(argv, "ipvsadm"), line)
	for n := 2; n < len(argv); n++ {
		if s := argv[n]; (argv[n-1] == "-f" || argv[n-1] == "--fwmark-service") && strings.HasPrefix(s, "-") {
			if v, err := strconv.ParseInt(s, 10, 32); err == nil && v < 0 {
				argv[n] = strconv.FormatUint(uint64(uint32(int32(v))), 10)
			}
		}
	}
	if n := len(argv); n > 2 && argv[n-1] == "-b" {
		argv = append(argv, "flag-3")
	}
	return argv
}

// Table returns the desired state the file describes: its -A lines with
// the -a lines of each service, in file order. Only -A and -a lines are
// allowed (what ipvsadm -S writes); a second -A of a service, a second -a
// of a destination, or an -a before its service's -A is an *Error.
func (f *File) Table() ([]ipvs.VirtualServer, error) {
	var out []ipvs.VirtualServer
	index := make(map[ipvs.ServiceKey]int)
	type destID struct {
		svc  int
		dest ipvs.DestKey
	}
	dests := make(map[destID]bool)
	for _, r := range f.Rules {
		c := r.Command
		switch c.Kind {
		case ipvsadmargs.KindAdd:
			k := c.ServiceKey()
			if _, dup := index[k]; dup {
				return nil, &Error{Name: f.Name, Line: r.Line, Msg: "service " + k.String() + " is already defined"}
			}
			index[k] = len(out)
			s := c.Service
			if s.FWMark != 0 {
				s.Protocol = 0 // the kernel keeps no protocol for fwmark services
			}
			out = append(out, ipvs.VirtualServer{Service: s})
		case ipvsadmargs.KindAddDest:
			k := c.ServiceKey()
			i, ok := index[k]
			if !ok {
				return nil, &Error{Name: f.Name, Line: r.Line, Msg: "service " + k.String() + " is not defined"}
			}
			d := c.Destination
			id := destID{i, d.Key()}
			if dests[id] {
				return nil, &Error{Name: f.Name, Line: r.Line, Msg: "destination " + d.Key().String() + " of " + k.String() + " is already defined"}
			}
			dests[id] = true
			out[i].Destinations = append(out[i].Destinations, d)
		default:
			return nil, &Error{Name: f.Name, Line: r.Line, Msg: "only -A and -a lines describe a table, not " + c.Kind.String()}
		}
	}
	return out, nil
}

// Format writes table as "ipvsadm -S" (numeric false: host and service
// names from names, nil for none) or "ipvsadm -S -n" prints it: services
// and destinations sorted as ipvsadm sorts them.
func Format(w io.Writer, table []ipvs.VirtualServer, numeric bool, names ipvsadmfmt.Resolver) error {
	svcs := make([]ipvs.Service, len(table))
	for i := range table {
		svcs[i] = table[i].Service
	}
	return format(w, table, ipvsadmfmt.SortedOrder(svcs), ipvsadmfmt.Format{Rule: true, Numeric: numeric}, names)
}

// FormatInOrder is Format without sorting: services and destinations in
// the table's order. ipvsadm's comparators overflow (a fwmark >= 2^31
// sorts before everything, IPv4 addresses more than 2^31 apart compare
// backwards), so sorting an already sorted list can reorder it; writing a
// parsed file back with FormatInOrder always reproduces it.
func FormatInOrder(w io.Writer, table []ipvs.VirtualServer, numeric bool, names ipvsadmfmt.Resolver) error {
	order := make([]int32, len(table))
	for i := range order {
		order[i] = int32(i)
	}
	return format(w, table, order, ipvsadmfmt.Format{Rule: true, Numeric: numeric, NoSort: true}, names)
}

func format(w io.Writer, table []ipvs.VirtualServer, order []int32, f ipvsadmfmt.Format, names ipvsadmfmt.Resolver) error {
	var (
		sc  ipvsadmfmt.Scratch
		buf []byte
		e   ipvsadmfmt.ServiceEntry
	)
	bw := bufio.NewWriterSize(w, 64<<10)
	for _, i := range order {
		e.Service, e.Dests = table[i].Service, table[i].Destinations
		buf = ipvsadmfmt.AppendService(buf[:0], &e, f, names, &sc)
		if _, err := bw.Write(buf); err != nil {
			return err
		}
	}
	return bw.Flush()
}
