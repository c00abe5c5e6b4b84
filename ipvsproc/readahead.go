package ipvsproc

import (
	"errors"
	"io"
	"sync"
)

// DefaultReadAheadBlock is the block size ReadAhead uses when given 0
// (64 KiB): big enough that the reading goroutine and its consumer
// rarely wait for each other, small enough that the blocks in flight
// stay a small part of a listing's memory.
const DefaultReadAheadBlock = 64 << 10

// errReadAheadClosed is what Read returns after Close.
var errReadAheadClosed = errors.New("ipvsproc: read from closed read-ahead reader")

// ReadAhead returns a reader that reads r from a goroutine of its own,
// keeping up to two blocks of blockSize bytes (0 means
// DefaultReadAheadBlock) ready ahead of the consumer. The kernel's work
// behind a /proc read (walking and formatting the table) then overlaps
// with the caller's parsing of what was already read, on machines with
// more than one CPU.
//
// Each read request to r asks for the rest of the current block, so
// kernels that answer big requests in full still get big requests. The
// error that ends r (io.EOF included) is returned once the data before it
// has been consumed. Close stops the goroutine and waits for it; it does
// not close r. The returned reader is for one goroutine.
func ReadAhead(r io.Reader, blockSize int) io.ReadCloser {
	if blockSize <= 0 {
		blockSize = DefaultReadAheadBlock
	}
	const depth = 2
	ra := &readAhead{
		full: make(chan *raBlock, depth),
		free: make(chan *raBlock, depth+1),
		done: make(chan struct{}),
	}
	for range depth + 1 {
		ra.free <- &raBlock{buf: make([]byte, blockSize)}
	}
	ra.wg.Add(1)
	go ra.fill(r)
	return ra
}

// raBlock is one block of data and, in the last block, the error that
// ended the input.
type raBlock struct {
	buf []byte
	n   int
	err error
}

type readAhead struct {
	full, free chan *raBlock
	done       chan struct{}
	wg         sync.WaitGroup
	cur        *raBlock // block being consumed
	off        int      // consumed bytes of cur
	err        error    // sticky error once the last block is consumed
	closed     bool
}

// fill runs in its own goroutine: it fills free blocks from r and hands
// them over in order, until r fails or ends, or Close.
func (ra *readAhead) fill(r io.Reader) {
	defer ra.wg.Done()
	for {
		var b *raBlock
		select {
		case b = <-ra.free:
		case <-ra.done:
			return
		}
		b.n, b.err = 0, nil
		for empty := 0; b.n < len(b.buf); {
			m, err := r.Read(b.buf[b.n:])
			b.n += m
			if err != nil {
				b.err = err
				break
			}
			if m > 0 {
				empty = 0
				continue
			}
			if empty++; empty >= 100 {
				b.err = io.ErrNoProgress
				break
			}
		}
		select {
		case ra.full <- b:
		case <-ra.done:
			return
		}
		if b.err != nil {
			return
		}
	}
}

// Read implements io.Reader.
func (ra *readAhead) Read(p []byte) (int, error) {
	if ra.closed {
		return 0, errReadAheadClosed
	}
	for {
		if ra.err != nil {
			return 0, ra.err
		}
		if ra.cur != nil && ra.off < ra.cur.n {
			n := copy(p, ra.cur.buf[ra.off:ra.cur.n])
			ra.off += n
			return n, nil
		}
		if ra.cur != nil {
			if ra.cur.err != nil {
				ra.err = ra.cur.err
				continue
			}
			ra.free <- ra.cur
			ra.cur = nil
		}
		if len(p) == 0 {
			return 0, nil
		}
		ra.cur, ra.off = <-ra.full, 0
	}
}

// Close stops the reading goroutine and waits for it to return.
func (ra *readAhead) Close() error {
	if ra.closed {
		return nil
	}
	ra.closed = true
	close(ra.done)
	ra.wg.Wait()
	return nil
}
