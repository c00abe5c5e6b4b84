// Package complete gives ipvsctl's shell completion the names it cannot
// know in advance: the live services and their destinations (read from
// the kernel of --netns, if given on the command line), the sysctls the
// namespace has, network namespaces and interfaces, and the values of
// enum flags that would otherwise fall back to file names.
//
// Register attaches it all to the command tree in one place, by command
// path and flag name, so the commands stay as they are. A completion that
// fails for any reason (no IPVS, no permission, a bad argument) offers
// nothing; it never panics and never prints into the shell.
package complete
