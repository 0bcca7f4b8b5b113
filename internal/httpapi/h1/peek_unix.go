//go:build unix

package h1

import (
	"net"
	"syscall"
)

// peerClosed reports whether the client closed (or reset) the connection,
// without reading from it or waiting: a non-blocking MSG_PEEK under
// Control, which, unlike RawConn.Read, does not queue behind a read of the
// connection's own goroutine. Pending data (a pipelined request) means
// open.
func peerClosed(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	closed := false
	var b [1]byte
	_ = rc.Control(func(fd uintptr) {
		n, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			closed = n == 0
		case err == syscall.EAGAIN || err == syscall.EWOULDBLOCK || err == syscall.EINTR: //nolint:errorlint // raw errno
		default:
			closed = true
		}
	})
	return closed
}
