package main

import "github.com/ipvs-tools/ipvs/ipvsprobe"

// probeNamesInScratchNS asks the kernel which of the scheduler and
// persistence engine names exist, without touching the live table
// (ipvsprobe tries them in a scratch namespace). Schedulers and PEs are
// global (their modules are loaded on demand, as ipvsadm's own request
// would load them), so the answers hold for the live namespace. ok is
// false when the kernel could not be asked.
func probeNamesInScratchNS(scheds, pes []string) (schedOK, peOK map[string]bool, ok bool) {
	rep, err := ipvsprobe.Probe(ipvsprobe.Request{Schedulers: scheds, PEs: pes})
	if err != nil {
		return nil, nil, false
	}
	schedOK, peOK = map[string]bool{}, map[string]bool{}
	for _, s := range rep.Schedulers {
		schedOK[s] = true
	}
	for _, s := range rep.MissingSchedulers {
		schedOK[s] = false
	}
	for _, p := range rep.PEs {
		peOK[p] = true
	}
	for _, p := range rep.MissingPEs {
		peOK[p] = false
	}
	return schedOK, peOK, true
}
