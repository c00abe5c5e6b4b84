package main

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// validVersion is what both dpkg and rpm accept as an upstream version
// without epoch or revision.
var validVersion = regexp.MustCompile(`^[0-9][A-Za-z0-9.+~]*$`)

// describeSuffix is git describe's "-N-gHASH" after a tag.
var describeSuffix = regexp.MustCompile(`^(.+)-([0-9]+)-g([0-9a-f]+)$`)

// bareHash is git describe --always without any tag.
var bareHash = regexp.MustCompile(`^[0-9a-f]{4,}$`)

// checkVersion answers an error unless v can be a package version.
func checkVersion(v string) error {
	if !validVersion.MatchString(v) {
		return fmt.Errorf("version %q cannot name a package: it must start with a digit and hold only letters, digits, '.', '+' and '~'", v)
	}
	return nil
}

// flagVersion is the package version -version V asks for.
func flagVersion(v string) (string, error) {
	v = strings.TrimPrefix(v, "v")
	return v, checkVersion(v)
}

// describeVersion maps git describe --tags --always --dirty's output to a
// package version (see the command's documentation); commit is the
// described commit's time.
func describeVersion(describe string, commit time.Time) (string, error) {
	d, dirty := strings.CutSuffix(strings.TrimSpace(describe), "-dirty")
	var v string
	switch {
	case bareHash.MatchString(d):
		v = "0.0~git" + commit.UTC().Format("20060102") + "." + d
		if dirty {
			v += ".dirty"
		}
	default:
		tag, extra := d, ""
		if m := describeSuffix.FindStringSubmatch(d); m != nil {
			tag, extra = m[1], m[2]+".g"+m[3]
		}
		tag = strings.ReplaceAll(strings.TrimPrefix(tag, "v"), "-", "~")
		if dirty {
			if extra != "" {
				extra += "."
			}
			extra += "dirty"
		}
		v = tag
		if extra != "" {
			v += "+" + extra
		}
		if err := checkVersion(v); err != nil {
			return "", fmt.Errorf("git describe says %q, which makes no package version (%v); give one with -version", describe, err)
		}
	}
	return v, checkVersion(v)
}
