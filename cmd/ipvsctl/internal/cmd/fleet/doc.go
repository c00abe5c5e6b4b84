// Package fleet implements ipvsctl fleet: the operator's side of many
// directors kept in one etcd (cmd/ipvsctl/internal/fleet holds the key
// layout, the status schema and the agent's side). push stores a document
// with compare-and-swap, status shows every director, diff shows what a
// document would change on each, rollout pushes to canaries first.
//
// The flags that reach etcd (StoreFlags) are shared with ipvsctl agent
// --etcd, which imports this package as fleetcmd.
package fleet
