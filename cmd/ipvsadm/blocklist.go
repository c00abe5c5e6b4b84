package main

// blockLen is the number of elements in each block of a blockList.
const blockLen = 1024

// blockList is a list kept in fixed blocks of blockLen elements. The
// listings fill lists whose final size is not known in advance (a dump,
// a /proc file); growing one slice would copy it at every step (Go grows
// big slices by a quarter) and leave the old copies behind as garbage,
// which made up much of a 10,000-service listing's peak memory.
type blockList[T any] struct {
	blocks [][]T
	n      int
}

// len returns the number of elements.
func (b *blockList[T]) len() int { return b.n }

// at returns element i.
func (b *blockList[T]) at(i int) *T { return &b.blocks[i/blockLen][i%blockLen] }

// add appends v.
func (b *blockList[T]) add(v T) {
	k := b.n / blockLen
	if k == len(b.blocks) {
		b.blocks = append(b.blocks, make([]T, 0, blockLen))
	}
	b.blocks[k] = append(b.blocks[k], v)
	b.n++
}

// truncate drops the elements from n on, keeping the storage of the
// block that holds element n for what is added next.
func (b *blockList[T]) truncate(n int) {
	keep := n/blockLen + 1 // blocks up to the one element n goes in
	if keep > len(b.blocks) {
		keep = len(b.blocks)
	}
	clear(b.blocks[keep:])
	b.blocks = b.blocks[:keep]
	if n < b.n && keep > 0 {
		b.blocks[keep-1] = b.blocks[keep-1][:n-(keep-1)*blockLen]
	}
	b.n = n
}
