package h1

import (
	"bufio"
	"bytes"
	"net/http"
	"reflect"
	"testing"
)

// Whatever head the lean loop accepts, net/http reads the same way: method,
// path, Host, Content-Length, Connection: close and every header field. And
// no input panics.
func FuzzParseHead(f *testing.F) {
	for _, s := range []string{
		"GET /ping HTTP/1.1\r\nHost: db\r\n\r\n",
		"POST /execute-sql-query HTTP/1.1\r\nHost: 127.0.0.1:5095\r\nContent-Type: application/json\r\nContent-Length: 42\r\n\r\n",
		"POST /a HTTP/1.1\r\nhost: x\r\nconnection: keep-alive, close\r\nX-A: 1\r\nx-a:  2 \r\n\r\n",
		"GET /a HTTP/1.1\r\nHost: [::1]:80\r\nAuthorization: Basic cm9vdDpy\r\n\r\n",
		"GET /a HTTP/1.1\nHost: db\n\n",
		"GET /a HTTP/1.1\r\nHost: db\r\nContent-Length: 007\r\n\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n, strict := headEnd(data)
		if n < 0 || !strict {
			return
		}
		var h head
		if !parseHead(data[:n], &h) {
			return
		}
		req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(data[:n])))
		if err != nil {
			t.Fatalf("accepted %q, which net/http refuses: %v", data[:n], err)
		}
		delete(req.Header, "Host") // as net/http's server does
		hdr := http.Header{}
		for _, f := range h.fields {
			hdr[f.name] = append(hdr[f.name], f.value)
		}
		if len(hdr) == 0 {
			hdr = http.Header{}
		}
		if req.Method != h.method || req.URL.Path != h.path || req.URL.RawQuery != "" || req.URL.RawPath != "" ||
			req.RequestURI != h.path || req.Host != h.host || req.ContentLength != h.contentLength || req.Close != h.close ||
			!reflect.DeepEqual(req.Header, hdr) {
			t.Fatalf("%q:\nlean    %s %s host=%q len=%d close=%v %v\nnet/http %s %s%s host=%q len=%d close=%v %v", data[:n],
				h.method, h.path, h.host, h.contentLength, h.close, hdr,
				req.Method, req.URL.Path, req.URL.RawQuery, req.Host, req.ContentLength, req.Close, req.Header)
		}
	})
}
