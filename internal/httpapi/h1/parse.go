package h1

import (
	"bytes"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// head is a request head the lean loop serves: HTTP/1.1, GET or POST, a
// plain path, a Host, at most one Content-Length and none of the headers
// that change how the connection or the body is read. Anything else is
// not a head (parseHead reports false) and goes to net/http, which knows
// every rule of the protocol; what is accepted here is a strict subset of
// what net/http accepts, read the same way.
type head struct {
	method, path string
	host         string
	// contentLength is the body's length (0 without the header: a request
	// without Content-Length or Transfer-Encoding has no body).
	contentLength int64
	close         bool // Connection: close
	// fields are the header fields in order, canonical names, values
	// without surrounding whitespace; they alias one string per request.
	fields []field
}

type field struct{ name, value string }

const (
	maxFields      = 64
	maxContentLen  = 1 << 50 // beyond any body limit; longer numbers go to net/http
	maxContentDigs = 16
)

// headEnd returns the length of the head at the start of b (through the
// empty line), or -1 when b holds no complete head. A line ends at LF, as
// net/http reads it; strict is false when the head's end is not CRLF CRLF
// (a bare LF there: net/http's to read).
func headEnd(b []byte) (n int, strict bool) {
	for i := 0; ; {
		j := bytes.IndexByte(b[i:], '\n')
		if j < 0 {
			return -1, false
		}
		i += j + 1
		switch {
		case i < len(b) && b[i] == '\n':
			return i + 1, false
		case i+1 < len(b) && b[i] == '\r' && b[i+1] == '\n':
			return i + 2, i >= 2 && b[i-2] == '\r'
		}
	}
}

// parseHead parses a complete head (as headEnd delimits it) into h,
// reusing h.fields. It reports false for anything outside the subset.
func parseHead(b []byte, h *head) bool {
	h.fields = h.fields[:0]
	h.contentLength, h.close, h.host = 0, false, ""
	// One string for the whole head: names and values are slices of it.
	s := string(b[:len(b)-2]) // keep the last field's CRLF, drop the empty line's
	line, rest, ok := strings.Cut(s, "\r\n")
	if !ok || !parseRequestLine(line, h) {
		return false
	}
	sawLength, sawHost, sawConnection := false, false, false
	for rest != "" {
		line, rest, _ = strings.Cut(rest, "\r\n")
		colon := strings.IndexByte(line, ':')
		if colon <= 0 || len(h.fields) == maxFields {
			return false
		}
		name, value := line[:colon], trimOWS(line[colon+1:])
		if !httpguts.ValidHeaderFieldName(name) || !httpguts.ValidHeaderFieldValue(value) {
			return false
		}
		name = canonicalName(name)
		switch name {
		case "Content-Length":
			if sawLength {
				return false
			}
			sawLength = true
			n, ok := parseLength(value)
			if !ok {
				return false
			}
			h.contentLength = n
		case "Host":
			if sawHost {
				return false
			}
			sawHost = true
			if !httpguts.ValidHostHeader(value) {
				return false
			}
			h.host = value
			continue // net/http moves it to Request.Host
		case "Connection":
			// net/http reads the first Connection header only: a second
			// one is its business.
			if sawConnection || !parseConnection(value, h) {
				return false
			}
			sawConnection = true
		case "Transfer-Encoding", "Expect", "Upgrade", "Trailer", "Te", "Pragma":
			return false // framing, upgrades, 100-continue; Pragma: net/http rewrites it
		}
		h.fields = append(h.fields, field{name, value})
	}
	return sawHost
}

// parseRequestLine reads "METHOD SP path SP HTTP/1.1".
func parseRequestLine(line string, h *head) bool {
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || proto != "HTTP/1.1" {
		return false
	}
	switch method {
	case "GET":
		h.method = "GET"
	case "POST":
		h.method = "POST"
	default:
		return false
	}
	if !plainPath(target) {
		return false
	}
	h.path = target
	return true
}

// plainPath accepts an origin-form target that is its own decoded path:
// no query, no fragment, no percent-escapes, no dot segments, no empty
// segments (net/http leaves those to the handler, which here would see
// the same string; rejecting them keeps the subset obviously equal).
func plainPath(p string) bool {
	if len(p) == 0 || p[0] != '/' || len(p) > 1024 {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case c == '/':
			if i > 0 && p[i-1] == '/' {
				return false
			}
		case c == '.':
			if p[i-1] == '/' { // a segment starting with a dot
				return false
			}
		default:
			return false
		}
	}
	return true
}

func parseLength(v string) (int64, bool) {
	if v == "" || len(v) > maxContentDigs {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, n <= maxContentLen
}

// parseConnection accepts "close" and "keep-alive" tokens only (any other
// names a hop-by-hop header or an upgrade: net/http's business).
func parseConnection(v string, h *head) bool {
	for v != "" {
		var tok string
		tok, v, _ = strings.Cut(v, ",")
		tok = trimOWS(tok)
		switch {
		case strings.EqualFold(tok, "close"):
			h.close = true
		case strings.EqualFold(tok, "keep-alive"), tok == "":
		default:
			return false
		}
	}
	return true
}

func trimOWS(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

// commonNames are field names whose canonical form is returned without
// allocating.
var commonNames = []string{
	"Host", "Content-Length", "Content-Type", "Authorization", "Connection", "User-Agent",
	"Accept", "Accept-Encoding", "X-Camus-Forwarded", "Transfer-Encoding", "Expect", "Upgrade",
	"Trailer", "Te", "Pragma",
}

// canonicalName is textproto.CanonicalMIMEHeaderKey, without allocating
// for the common names.
func canonicalName(name string) string {
	for _, c := range commonNames {
		if len(c) == len(name) && strings.EqualFold(c, name) {
			return c
		}
	}
	return textproto.CanonicalMIMEHeaderKey(name)
}
