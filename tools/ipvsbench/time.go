package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// timeCmd runs a command repeatedly and reports its best and mean wall
// time and its peak resident set size.
func timeCmd(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("time", flag.ContinueOnError)
	fs.SetOutput(stderr)
	n := fs.Int("n", 1, "runs")
	label := fs.String("label", "", "label for the report (default: the command)")
	in := fs.String("in", "", "file to give each run as standard input (default: none)")
	out := fs.String("out", "", "file to write the last run's standard output to (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	argv := fs.Args()
	if len(argv) == 0 || *n < 1 {
		fmt.Fprintln(stderr, "usage: ipvsbench time [-n N] [-label L] -- COMMAND [ARGS...]")
		return 2
	}
	if *label == "" {
		*label = fmt.Sprint(argv)
	}
	var (
		best, total time.Duration
		maxRSS      int64
	)
	for i := 0; i < *n; i++ {
		args := make([]string, len(argv)-1)
		for j, a := range argv[1:] {
			args[j] = strings.ReplaceAll(a, "{i}", strconv.Itoa(i+1))
		}
		cmd := exec.Command(argv[0], args...)
		if *in != "" {
			f, err := os.Open(*in)
			if err != nil {
				fmt.Fprintln(stderr, "ipvsbench time:", err)
				return 1
			}
			defer f.Close()
			cmd.Stdin = f
		}
		if *out != "" && i == *n-1 {
			f, err := os.Create(*out)
			if err != nil {
				fmt.Fprintln(stderr, "ipvsbench time:", err)
				return 1
			}
			defer f.Close()
			cmd.Stdout = f
		}
		start := time.Now()
		err := cmd.Run()
		d := time.Since(start)
		if err != nil {
			fmt.Fprintf(stderr, "ipvsbench time: %v: %v\n", argv, err)
			return 1
		}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > maxRSS {
			maxRSS = ru.Maxrss
		}
		total += d
		if i == 0 || d < best {
			best = d
		}
	}
	fmt.Fprintf(stdout, "%s: best %.3f s, mean %.3f s, peak RSS %d KiB\n",
		*label, best.Seconds(), (total / time.Duration(*n)).Seconds(), maxRSS)
	return 0
}
