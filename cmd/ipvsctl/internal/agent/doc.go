// Package agent keeps an IPVS table equal to a document while real servers
// fail and recover: the reconciliation loop behind ipvsctl agent.
//
// The loop owns the table within its scope. At start, on a reload and at
// every drift check it reads the services it manages, computes the table
// the document asks for given every server's health, and sends the
// difference (never a flush). Between those, a health transition sends
// only the requests for the services that use the flipped server, computed
// from the table it last wrote: no read.
//
// A server whose check has no result yet keeps the weight the kernel has,
// so a restarted agent does not flap its servers; a server the kernel does
// not have is added quiesced (weight 0), or left out when its service
// removes failed servers.
package agent
