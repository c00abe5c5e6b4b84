package main

import (
	"bufio"

	"github.com/ipvs-tools/ipvs/internal/rulesfile"
)

// restoreReader and readRestoreLine are the names the tests of this
// package use for rulesfile.Reader, the -R tokenizer.
type restoreReader struct {
	br   *bufio.Reader
	slow bool
	r    *rulesfile.Reader
}

func (r *restoreReader) next(argv0 string) ([]string, bool) {
	if r.r == nil {
		r.r = rulesfile.NewReader(r.br)
		r.r.ByteByByte = r.slow
	}
	return r.r.Next(argv0)
}

// readRestoreLine returns a copy of the argv of the next line of br.
func readRestoreLine(br *bufio.Reader, argv0 string) ([]string, bool) {
	argv, ok := rulesfile.NewReader(br).Next(argv0)
	return append([]string(nil), argv...), ok
}
