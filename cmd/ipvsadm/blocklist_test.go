package main

import "testing"

func TestBlockList(t *testing.T) {
	var b blockList[int]
	check := func(what string, n int) {
		t.Helper()
		if b.len() != n {
			t.Fatalf("%s: len %d, want %d", what, b.len(), n)
		}
		for i := range n {
			if *b.at(i) != i {
				t.Fatalf("%s: element %d is %d", what, i, *b.at(i))
			}
		}
	}
	for i := range 3*blockLen + 1 {
		b.add(i)
	}
	check("filled", 3*blockLen+1)
	for _, n := range []int{3 * blockLen, 2*blockLen + 7, 2 * blockLen, blockLen - 1, 0} {
		b.truncate(n)
		check("truncated", n)
		for i := n; i < n+blockLen+3; i++ { // refill across a boundary
			b.add(i)
		}
		check("refilled", n+blockLen+3)
		b.truncate(n)
		check("truncated again", n)
	}
}
