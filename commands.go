package ipvs

// Command is an IPVS command (enum IPVS_CMD_* in ip_vs.h).
type Command uint8

// IPVS commands. CmdGetFamily is IPVS_CMD_UNSPEC, which the kernel does not
// take: netlinkipvs names with it the resolution of the generic netlink
// family in errors.
const (
	CmdGetFamily  Command = 0  // (pseudo command: nlctrl CTRL_CMD_GETFAMILY)
	CmdNewService Command = 1  // IPVS_CMD_NEW_SERVICE
	CmdSetService Command = 2  // IPVS_CMD_SET_SERVICE
	CmdDelService Command = 3  // IPVS_CMD_DEL_SERVICE
	CmdGetService Command = 4  // IPVS_CMD_GET_SERVICE
	CmdNewDest    Command = 5  // IPVS_CMD_NEW_DEST
	CmdSetDest    Command = 6  // IPVS_CMD_SET_DEST
	CmdDelDest    Command = 7  // IPVS_CMD_DEL_DEST
	CmdGetDest    Command = 8  // IPVS_CMD_GET_DEST
	CmdNewDaemon  Command = 9  // IPVS_CMD_NEW_DAEMON
	CmdDelDaemon  Command = 10 // IPVS_CMD_DEL_DAEMON
	CmdGetDaemon  Command = 11 // IPVS_CMD_GET_DAEMON
	CmdSetConfig  Command = 12 // IPVS_CMD_SET_CONFIG
	CmdGetConfig  Command = 13 // IPVS_CMD_GET_CONFIG
	CmdSetInfo    Command = 14 // IPVS_CMD_SET_INFO (only the GET_INFO reply)
	CmdGetInfo    Command = 15 // IPVS_CMD_GET_INFO
	CmdZero       Command = 16 // IPVS_CMD_ZERO
	CmdFlush      Command = 17 // IPVS_CMD_FLUSH
)

var commandNames = NameTable[Command]{
	CmdGetFamily:  "get-family",
	CmdNewService: "new-service",
	CmdSetService: "set-service",
	CmdDelService: "del-service",
	CmdGetService: "get-service",
	CmdNewDest:    "new-dest",
	CmdSetDest:    "set-dest",
	CmdDelDest:    "del-dest",
	CmdGetDest:    "get-dest",
	CmdNewDaemon:  "new-daemon",
	CmdDelDaemon:  "del-daemon",
	CmdGetDaemon:  "get-daemon",
	CmdSetConfig:  "set-config",
	CmdGetConfig:  "get-config",
	CmdSetInfo:    "set-info",
	CmdGetInfo:    "get-info",
	CmdZero:       "zero",
	CmdFlush:      "flush",
}

// String returns the command's name in lower-case words, e.g. "new-service".
func (c Command) String() string {
	return commandNames.Name(c, "command(%d)")
}

// Op is one write request, as a batch (netlinkipvs.Client.Batch) or a plan
// (ipvsplan) carries it. Which fields are used depends on Cmd:
//
//	CmdNewService, CmdSetService  Service (all settings)
//	CmdDelService                 Service (identity)
//	CmdNewDest, CmdSetDest        Service (identity), Destination (all)
//	CmdDelDest                    Service (identity), Destination (identity)
//	CmdZero                       Service (identity), or nothing if AllServices
//	CmdFlush                      nothing
//	CmdSetConfig                  Timeouts
//	CmdNewDaemon                  Daemon
//	CmdDelDaemon                  Daemon.State
type Op struct {
	Cmd         Command
	Service     Service
	Destination Destination
	Timeouts    Timeouts
	Daemon      Daemon
	// AllServices makes a CmdZero zero every service.
	AllServices bool
}

// Batcher sends write requests in order, many at a time, and answers each:
// errs[i] is the kernel's answer to ops[i] (nil when it was carried out).
// Like the kernel, it does not stop at a refused request. err reports a
// failure of the transport itself; the requests without an answer then
// carry it. netlinkipvs.Client is one; so are the fakes over ipvsmodel.
type Batcher interface {
	Batch(ops []Op) (errs []error, err error)
}

// OpWriter turns the write methods of a kernel API into the one request
// (Op) each of them sends, and hands it to the function: a fake kernel or
// a recorder gets the whole write API by embedding one.
type OpWriter func(Op) error

// NewService sends CmdNewService.
func (w OpWriter) NewService(s Service) error { return w(Op{Cmd: CmdNewService, Service: s}) }

// UpdateService sends CmdSetService.
func (w OpWriter) UpdateService(s Service) error { return w(Op{Cmd: CmdSetService, Service: s}) }

// DeleteService sends CmdDelService.
func (w OpWriter) DeleteService(k ServiceKey) error {
	return w(Op{Cmd: CmdDelService, Service: k.Service()})
}

// NewDestination sends CmdNewDest.
func (w OpWriter) NewDestination(k ServiceKey, d Destination) error {
	return w(Op{Cmd: CmdNewDest, Service: k.Service(), Destination: d})
}

// UpdateDestination sends CmdSetDest.
func (w OpWriter) UpdateDestination(k ServiceKey, d Destination) error {
	return w(Op{Cmd: CmdSetDest, Service: k.Service(), Destination: d})
}

// DeleteDestination sends CmdDelDest.
func (w OpWriter) DeleteDestination(k ServiceKey, d DestKey) error {
	return w(Op{Cmd: CmdDelDest, Service: k.Service(), Destination: d.Destination()})
}

// Flush sends CmdFlush.
func (w OpWriter) Flush() error { return w(Op{Cmd: CmdFlush}) }

// ZeroAll sends CmdZero for every service.
func (w OpWriter) ZeroAll() error { return w(Op{Cmd: CmdZero, AllServices: true}) }

// ZeroService sends CmdZero for one service.
func (w OpWriter) ZeroService(k ServiceKey) error {
	return w(Op{Cmd: CmdZero, Service: k.Service()})
}

// SetTimeouts sends CmdSetConfig.
func (w OpWriter) SetTimeouts(t Timeouts) error { return w(Op{Cmd: CmdSetConfig, Timeouts: t}) }

// NewDaemon sends CmdNewDaemon.
func (w OpWriter) NewDaemon(d Daemon) error { return w(Op{Cmd: CmdNewDaemon, Daemon: d}) }

// DeleteDaemon sends CmdDelDaemon.
func (w OpWriter) DeleteDaemon(s DaemonState) error {
	return w(Op{Cmd: CmdDelDaemon, Daemon: Daemon{State: s}})
}
