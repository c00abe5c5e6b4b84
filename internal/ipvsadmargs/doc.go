// Package ipvsadmargs is the command-line grammar of ipvsadm 1.31 (as
// shipped by Debian 12), reimplemented as one pure function:
//
//	cmd, err := ipvsadmargs.Parse(argv, env)
//
// Parse emulates popt 1.19 (option bundling, --opt=value, the optional
// argument of -p, "--", leftovers), ipvsadm's value parsers (strtol-style
// numbers, inet_aton addresses, [v6]:port forms, service names), its
// command/option matrix and every check of process_options, in the same
// order, so that the first error reported is the one ipvsadm reports.
//
// Everything impure (host and service name lookups, POSIXLY_CORRECT) comes
// in through Env. Errors are *Error values carrying the exact text ipvsadm
// writes to stderr and the exit status it uses.
//
// The package also holds ipvsadm's kernel error messages (Strerror), a pure
// function of the libipvs operation and the errno.
package ipvsadmargs
