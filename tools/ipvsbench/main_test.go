package main

import (
	"testing"

	"github.com/ipvs-tools/ipvs"
)

func TestPopulateOps(t *testing.T) {
	ops := populateOps(300, 3)
	if len(ops) != 300*4 {
		t.Fatalf("%d ops", len(ops))
	}
	seen := map[ipvs.ServiceKey]bool{}
	for _, op := range ops {
		if op.Cmd == ipvs.CmdNewService {
			if seen[op.Service.Key()] {
				t.Fatalf("duplicate service %s", op.Service.Key())
			}
			seen[op.Service.Key()] = true
		}
	}
}
