// Package rulesfile reads and writes IPVS rules files: the text that
// "ipvsadm -S" (ipvsadm-save) prints and "ipvsadm -R" (ipvsadm-restore)
// reads, one ipvsadm command line per line.
//
//	f, err := rulesfile.Parse(r, "/etc/ipvsadm.rules")
//	table, err := f.Table()          // desired state for ipvsplan.Diff
//	err = rulesfile.Format(w, table, true, nil) // as "ipvsadm -S -n"
//
// Each line is parsed by ipvsadmargs.Parse, the same grammar the ipvsadm
// command uses, so the file format and the command line cannot drift
// apart; every Rule keeps its line number for error messages. Lines are
// split into tokens as ipvsadm -R splits them (blanks, tabs, CR; a token
// "ipvsadm" is dropped), blank lines are skipped and, as the
// ipvsadm-restore script and Debian's init script do with grep -v '^#',
// lines whose first character is '#' are comments.
//
// Reader is ipvsadm -R's own reading of its input (fscanf's quirks
// included: no comments, tokens split at 4096 bytes, NULs, a lost last
// line); cmd/ipvsadm reads -R with it, and Parse splits its lines with the
// same splitter.
//
// Two things ipvsadm 1.31 saves but cannot read back are accepted, so that
// every save output parses (and Format(Parse(x)) == x):
//
//   - fwmarks of 2^31 and more, which 1.31 saves signed ("-f -1412536447"):
//     a negative -f value in int32 range is read as the unsigned mark;
//   - the empty scheduler-flag list "-b " that 1.31 saves for an sh or mh
//     service with only flag-3 set: a trailing "-b" reads as "-b flag-3".
//
// IPv6 host names in brackets ("[v6vip.example.com]:https", printed by
// ipvsadm -S without -n) are not resolved, as ipvsadm itself does not;
// save with -n for files meant to be read back.
//
// Format prints a table exactly as "ipvsadm -S" or "ipvsadm -S -n" prints
// it (package ipvsadmfmt), sorted the way ipvsadm sorts. ipvsadm's
// comparators overflow, so that sort is not always idempotent;
// FormatInOrder keeps the table's order and reproduces every parsed save
// output byte for byte.
//
// Saving is lossy in ipvsadm 1.31 in ways no reader can undo: thresholds
// (-x, -y), timeouts and sync daemons are not saved, and for the sh and mh
// schedulers flag-3 is dropped when another scheduler flag is set.
package rulesfile
