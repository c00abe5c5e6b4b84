// Package convert turns the configuration of another IPVS manager into an
// ipvsctl/v1 document: a keepalived.conf (its virtual_server blocks, with
// their real servers, health checks, sorry server and quorum) or an
// ldirectord.cf (its virtual= sections).
//
// Convert reads one file (keepalived's include statements are followed,
// relative to the including file, with glob patterns), maps what it can
// and returns the document with a Warning for every line whose meaning is
// dropped or changed. The document it returns always validates
// (ipvsconfig.Document.Desired): an object the document model refuses is
// left out, with a warning at its line. Only a file that cannot be read as
// the format at all (an unterminated quote, an unbalanced brace, an
// indented line outside an ldirectord virtual section) is an *Error.
//
// The mapping follows what the programs do rather than what their manuals
// say where the two differ; each choice is listed in docs/migrating.md.
// The main ones:
//
//   - keepalived's retry counts the probes after the first failure, so
//     fall is retry+1 (retry defaults to 1, to 3 for DNS_CHECK and to 0 for
//     MISC_CHECK); one success brings a server back (rise 1), except
//     that a failed HTTP_GET or SSL_GET needs one more success than it
//     has urls (rise 2 for one url). ldirectord's fall is failurecount and
//     its rise 1.
//   - keepalived removes a failed server unless inhibit_on_failure is set
//     (onFailure remove / quiesce); ldirectord quiesces it when quiescent
//     is yes.
//   - defaults that differ from ipvsctl's are written out: keepalived's
//     NAT forwarding and 60-second delay_loop, ldirectord's wrr scheduler
//     and 10-second checkinterval.
//   - a check's timeout may not exceed its interval: a timeout written in
//     the file that is longer makes the interval that long (with a
//     warning); a default timeout is shortened to the interval.
//
// Nothing here prints; the command writes the warnings.
package convert
