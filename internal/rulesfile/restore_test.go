package rulesfile

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// oldTokens is tokens as it was before it split with appendTokens, the
// -R reader's splitter: the oracle of TestTokensMatchOldCopy.
func oldTokens(argv []string, line []byte) []string {
	argv = append(argv, "ipvsadm")
	all := string(line)
	for i := 0; i < len(all); {
		for i < len(all) && isBlank(all[i]) {
			i++
		}
		j := i
		for j < len(all) && !isBlank(all[j]) {
			j++
		}
		if j == i {
			break
		}
		s := all[i:j]
		i = j
		if s == "ipvsadm" {
			continue
		}
		if n := len(argv); (argv[n-1] == "-f" || argv[n-1] == "--fwmark-service") && strings.HasPrefix(s, "-") {
			if v, err := strconv.ParseInt(s, 10, 32); err == nil && v < 0 {
				s = strconv.FormatUint(uint64(uint32(int32(v))), 10)
			}
		}
		argv = append(argv, s)
	}
	if n := len(argv); n > 2 && argv[n-1] == "-b" {
		argv = append(argv, "flag-3")
	}
	return argv
}

var tokenAlphabet = []string{" ", "\t", "\r", "ipvsadm", "-A", "-f", "--fwmark-service", "-1", "-2147483649",
	"-b", "x", "\x00", "#", "10.0.0.1:80", "-", "ipvsadmx"}

func randomLine(r *rand.Rand, alphabet []string) string {
	var b strings.Builder
	for n := r.IntN(12); n > 0; n-- {
		b.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return b.String()
}

// TestTokensMatchOldCopy: Parse's line splitting is the same with the
// shared splitter as with its old copy.
func TestTokensMatchOldCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 20000; i++ {
		line := randomLine(r, tokenAlphabet) + "\n"
		if got, want := tokens(nil, []byte(line)), oldTokens(nil, []byte(line)); !slices.Equal(got, want) {
			t.Fatalf("%q: got %q, old copy %q", line, got, want)
		}
	}
}

// TestReaderSplitsAsParse: on lines without NULs, long tokens or an
// unterminated last line (where -R's fscanf differs on purpose), the -R
// Reader, both paths, and Parse's splitter give the same argv.
func TestReaderSplitsAsParse(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	alphabet := slices.DeleteFunc(slices.Clone(tokenAlphabet), func(s string) bool { return s == "\x00" })
	for i := 0; i < 3000; i++ {
		var in bytes.Buffer
		var want []string
		for n := r.IntN(6); n > 0; n-- {
			line := randomLine(r, alphabet)
			in.WriteString(line + "\n")
			want = append(want, strings.Join(appendTokens([]string{"p"}, []byte(line)), "|"))
		}
		for _, slow := range []bool{false, true} {
			rd := NewReader(bufio.NewReaderSize(bytes.NewReader(in.Bytes()), 16+r.IntN(64)))
			rd.ByteByByte = slow
			var got []string
			for {
				argv, ok := rd.Next("p")
				if !ok {
					break
				}
				got = append(got, strings.Join(argv, "|"))
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%q (byte by byte %v):\ngot  %q\nwant %q", in.String(), slow, got, want)
			}
		}
	}
}
