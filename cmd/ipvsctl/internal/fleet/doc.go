// Package fleet keeps many directors' IPVS tables in one etcd: the key
// layout, the documents addressed to each director, the status every
// director's agent reports, and the operations of ipvsctl fleet (push with
// compare-and-swap, status, diff, rollout).
//
// # Key layout
//
// Under a prefix P (default "/ipvsctl/"):
//
//	P documents/default              the document of every director not addressed otherwise
//	P documents/selector/K=V[,K=V]   the document of the directors whose labels match
//	P documents/name/NAME            the document of director NAME
//	P daemons/NAME                   director NAME's sync daemons (a document with a daemons section only)
//	P directors/NAME                 a director's registration (name, labels, version)
//	P status/NAME                    its status (kind DirectorStatus), bound to its lease
//
// Documents are ipvsctl/v1 documents (YAML or JSON) stored as pushed, so
// etcdctl get shows what an operator wrote. A director takes the document
// addressed to it by name, else the one whose selector matches its labels
// (two matching selectors are an error it reports), else the default. The
// document's etcd revision (its ModRevision) is the generation the agent
// applies, so "revision R applied" means the same thing on every director.
//
// Sync-daemon roles are per director, apart from the services: a pair of
// directors shares one services document while daemons/lb1 says master
// and daemons/lb2 says backup (or both run both). Deleting the key leaves
// the daemons as they are.
//
// Member is the agent's side: it lists and watches the documents, hands
// the one addressed to its director to the agent, and keeps the status
// key. Losing etcd never touches the table: the agent keeps its last
// document, its checks and their flips, and Member reconnects with a
// doubling wait, re-lists (which also recovers from a compacted watch)
// and reports how long it was cut off.
package fleet
