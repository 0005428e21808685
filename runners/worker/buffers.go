package worker

import "sync"

// Message buffers are reused from one message to the next. A market step
// moves megabytes of token ids and hidden states each way, and a fresh
// buffer for every message was zeroed by the allocator, grown by copying
// and collected again: a tenth of the sim worker's CPU time.
var messageBuffers sync.Pool // of *[]byte

// maxPooledBuffer is the largest buffer kept for reuse. A replay group's
// ids (8 × 8,192 × 4 bytes) and a hidden batch's states fit many times
// over; a rare larger message is left to the collector rather than held.
const maxPooledBuffer = 16 << 20

// takeBuffer returns an empty buffer, with the capacity of one used before
// when there is one.
func takeBuffer() []byte {
	if p, ok := messageBuffers.Get().(*[]byte); ok {
		return (*p)[:0]
	}
	return nil
}

// giveBuffer hands b back for reuse. Nothing may hold a slice of b
// afterwards.
func giveBuffer(b []byte) {
	if cap(b) == 0 || cap(b) > maxPooledBuffer {
		return
	}
	b = b[:0]
	messageBuffers.Put(&b)
}
