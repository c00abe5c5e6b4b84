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
