// Package doctor is the preflight of an IPVS director (ipvsctl doctor):
// small checks, each reading the live table, the documents about to be
// applied and the host (sysctls, interfaces, local addresses, the kernel's
// schedulers) and saying what it found as Findings: a severity, the object
// concerned, what is wrong in an operator's words and what to run next.
//
// The host is read through the Host interface, so that tests use fakes;
// NewHost reads the real one in a network namespace. Nothing here prints,
// reads flags or exits: the command in cmd/ipvsctl/internal/cmd/doctor
// does.
package doctor
