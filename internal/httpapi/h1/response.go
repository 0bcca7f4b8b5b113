package h1

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the ResponseWriter of a lean connection, reused for each of
// its requests. Like net/http's, it sends the head at the first Write (or
// at the end), so a handler may set headers until then. The body goes
// with Content-Length framing when the handler set the header or the
// handler finished within one buffer (the length is then known);
// otherwise chunked.
type response struct {
	cn         *conn
	header     http.Header
	status     int
	headSent   bool
	chunked    bool
	noBody     bool  // status forbids a body (1xx, 204, 304)
	length     int64 // declared Content-Length, -1 when none
	written    int64
	pending    []byte // body held back until the head is sent
	closeAfter bool
}

func (w *response) reset(closeAfter bool) {
	if w.header == nil {
		w.header = make(http.Header, 4)
	} else {
		clear(w.header)
	}
	w.status, w.headSent, w.chunked, w.noBody = 0, false, false, false
	w.length, w.written = -1, 0
	w.pending = w.pending[:0]
	w.closeAfter = closeAfter
}

func (w *response) Header() http.Header { return w.header }

func (w *response) WriteHeader(status int) {
	if w.headSent || w.status != 0 {
		return
	}
	if status < 100 || status > 999 {
		panic("h1: invalid WriteHeader code " + strconv.Itoa(status))
	}
	if status < 200 {
		return // informational answers are not sent (net/http sends them; none of ours use one)
	}
	w.status = status
	w.noBody = status == http.StatusNoContent || status == http.StatusNotModified
	if v := w.header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			w.header.Del("Content-Length")
		}
	}
}

func (w *response) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.noBody {
		return 0, http.ErrBodyNotAllowed
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	w.written += int64(len(p))
	if !w.headSent {
		if w.length < 0 && len(w.pending)+len(p) <= bufSize {
			w.pending = append(w.pending, p...)
			return len(p), nil
		}
		if err := w.sendHead(false); err != nil {
			return 0, err
		}
	}
	if err := w.writeBody(p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush sends what was written so far (http.Flusher).
func (w *response) Flush() {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headSent {
		_ = w.sendHead(false)
	}
	_ = w.cn.bw.Flush()
}

// finish completes the response after the handler returned.
func (w *response) finish() error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.headSent {
		if err := w.sendHead(true); err != nil {
			return err
		}
	}
	if w.chunked {
		_, _ = w.cn.bw.WriteString("0\r\n\r\n")
	} else if w.length >= 0 && w.written < w.length {
		// Shorter than declared: the client cannot find the next answer.
		w.closeAfter = true
	}
	return w.cn.bw.Flush()
}

// sendHead writes the status line and the header, then the held-back
// body. final: the handler is done, so the body's length is known.
func (w *response) sendHead(final bool) error {
	w.headSent = true
	h := w.header
	h.Del("Transfer-Encoding") // the framing is ours
	if w.noBody {
		h.Del("Content-Length")
		w.length = -1
	} else if w.length < 0 {
		if final {
			w.length = int64(len(w.pending))
			h["Content-Length"] = []string{strconv.Itoa(len(w.pending))}
		} else {
			w.chunked = true
			h.Del("Content-Length")
			h["Transfer-Encoding"] = []string{"chunked"}
		}
	}
	if !w.noBody && len(h["Content-Type"]) == 0 && len(w.pending) > 0 {
		if _, set := h["Content-Type"]; !set { // nil value: the handler wants none
			h["Content-Type"] = []string{http.DetectContentType(w.pending)}
		}
	}
	if c := h.Get("Connection"); c != "" && strings.EqualFold(c, "close") {
		w.closeAfter = true
	}
	if w.cn.s.closed.Load() {
		w.closeAfter = true
	}
	bw := w.cn.bw
	bw.WriteString("HTTP/1.1 ")
	bw.WriteString(statusLine(w.status))
	bw.WriteString("\r\n")
	for name, vals := range h {
		if !httpguts.ValidHeaderFieldName(name) || name == "Connection" || name == "Date" {
			continue
		}
		for _, v := range vals {
			bw.WriteString(name)
			bw.WriteString(": ")
			writeValue(bw, v)
			bw.WriteString("\r\n")
		}
	}
	if w.closeAfter {
		bw.WriteString("Connection: close\r\n")
	}
	bw.WriteString("Date: ")
	bw.WriteString(httpDate())
	bw.WriteString("\r\n\r\n")
	if len(w.pending) > 0 {
		p := w.pending
		w.pending = w.pending[:0]
		return w.writeBody(p)
	}
	return nil
}

func (w *response) writeBody(p []byte) error {
	if len(p) == 0 {
		return nil
	}
	bw := w.cn.bw
	if w.chunked {
		var n [16]byte
		bw.Write(strconv.AppendInt(n[:0], int64(len(p)), 16))
		bw.WriteString("\r\n")
		bw.Write(p)
		_, err := bw.WriteString("\r\n")
		return err
	}
	_, err := bw.Write(p)
	return err
}

// writeValue writes a header value with CR and LF turned into spaces, as
// net/http does, so a value cannot start a header of its own.
func writeValue(bw interface {
	WriteString(string) (int, error)
	WriteByte(byte) error
}, v string) {
	if !strings.ContainsAny(v, "\r\n") {
		bw.WriteString(v)
		return
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == '\r' || c == '\n' {
			c = ' '
		}
		_ = bw.WriteByte(c)
	}
}

var statusLines [600]string

func init() {
	for code := 100; code < len(statusLines); code++ {
		if text := http.StatusText(code); text != "" {
			statusLines[code] = strconv.Itoa(code) + " " + text
		}
	}
}

func statusLine(code int) string {
	if code < len(statusLines) && statusLines[code] != "" {
		return statusLines[code]
	}
	return strconv.Itoa(code) + " status code " + strconv.Itoa(code)
}

// httpDate is the Date header, formatted once a second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	unix int64
	text string
}

var cachedDate atomic.Pointer[dateText]
