package clienttest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// TxnID is an explicit transaction handle as carried on the wire.
type TxnID struct{ PT, Counter int64 }

// Value is a column value object of SPEC §3.1.
type Value struct {
	Type       int     `json:"type"`
	StrValue   *string `json:"strValue"`
	LongValue  int64   `json:"longValue"`
	FloatValue float64 `json:"floatValue"`
	BoolValue  bool    `json:"boolValue"`
}

// Request is one SQL request as the fake received it.
type Request struct {
	Path      string
	Database  string
	SQL       string
	Params    map[string]Value
	Txn       *TxnID // nil when the request named no transaction
	RowFormat string
}

// Col is an output column of a Rows reply; Type is the SPEC §3.1 type code.
type Col struct {
	Name string
	Type int
}

// Reply is what the handler answers. Build it with Rows, Affected, OK or Fail.
type Reply struct {
	status  int
	cols    []Col
	rows    [][]any
	hasRows bool
	// affected >= 0 marks a DML reply.
	affected int64
	database string
	code     errcode.Code
	message  string
}

// Rows answers a query. Row values are Go values: nil, int/int64, float64,
// string, bool, or OID (sent with type 1).
func Rows(cols []Col, rows ...[]any) Reply {
	return Reply{status: http.StatusOK, cols: cols, rows: rows, hasRows: true, affected: -1}
}

// Affected answers a DML statement with its affected-row count.
func Affected(n int64) Reply { return Reply{status: http.StatusOK, affected: n} }

// OK answers a statement that returns nothing (DDL).
func OK() Reply { return Reply{status: http.StatusOK, affected: -1} }

// Use answers a USE statement: kind "ddl" with the new current database.
func Use(database string) Reply {
	return Reply{status: http.StatusOK, affected: -1, database: database}
}

// Fail answers with an error; the HTTP status comes from the SPEC §3.2 table.
func Fail(code errcode.Code, message string) Reply {
	return Reply{status: errcode.HTTPStatus(code), code: code, message: message, affected: -1}
}

// OID is a row value sent as an object id (type 1).
type OID string

// Handler answers the statements the fake does not handle itself.
type Handler func(Request) Reply

// Server is a running fake. Close it (NewServer registers that with t.Cleanup).
type Server struct {
	URL string
	srv *httptest.Server

	handler Handler
	mu      struct {
		sync.Mutex
		requests []Request
		txns     map[TxnID]bool
		counter  int64
	}
}

// NewServer starts a fake on 127.0.0.1:0 and closes it when tb ends.
func NewServer(tb testing.TB, h Handler) *Server {
	s := &Server{handler: h}
	s.mu.txns = make(map[TxnID]bool)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "dateTime": time.Now().UTC().Format(time.RFC3339)})
	})
	for _, path := range []string{"/execute-sql-query", "/execute-sql-non-query", "/execute-sql-ddl"} {
		mux.HandleFunc("POST "+path, s.serveSQL)
	}
	mux.HandleFunc("POST /create-db", s.serveSQL)
	mux.HandleFunc("POST /drop-db", s.serveSQL)
	mux.HandleFunc("POST /start-transaction", s.serveTxn)
	mux.HandleFunc("POST /commit-transaction", s.serveTxn)
	mux.HandleFunc("POST /rollback-transaction", s.serveTxn)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	tb.Cleanup(s.Close)
	return s
}

// Close stops the server and closes its connections.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Requests returns a copy of every SQL request received so far, in order.
// /create-db and /drop-db appear with SQL "CREATE DATABASE name" and
// "DROP DATABASE name"; transaction endpoints appear with SQL BEGIN/COMMIT/ROLLBACK.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.mu.requests...)
}

// OpenTxns returns how many transactions are open.
func (s *Server) OpenTxns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.mu.txns)
}

type wireRequest struct {
	DatabaseName string           `json:"databaseName"`
	SQL          string           `json:"sql"`
	Parameters   map[string]Value `json:"parameters"`
	TxnIDPT      *int64           `json:"txnIdPT"`
	TxnIDCounter *int64           `json:"txnIdCounter"`
	RowFormat    string           `json:"rowFormat"`
	IfNotExists  bool             `json:"ifNotExists"`
}

func (s *Server) decode(w http.ResponseWriter, r *http.Request) (Request, bool) {
	var wr wireRequest
	body, err := io.ReadAll(r.Body)
	if err == nil {
		dec := json.NewDecoder(strings.NewReader(string(body)))
		dec.DisallowUnknownFields()
		err = dec.Decode(&wr)
	}
	if err != nil {
		writeReply(w, Fail(errcode.InvalidInput, "malformed request: "+err.Error()), "")
		return Request{}, false
	}
	req := Request{Path: r.URL.Path, Database: wr.DatabaseName, SQL: wr.SQL, Params: wr.Parameters, RowFormat: wr.RowFormat}
	if (wr.TxnIDPT == nil) != (wr.TxnIDCounter == nil) {
		writeReply(w, Fail(errcode.InvalidInput, "txnIdPT and txnIdCounter go together"), "")
		return Request{}, false
	}
	if wr.TxnIDPT != nil {
		req.Txn = &TxnID{PT: *wr.TxnIDPT, Counter: *wr.TxnIDCounter}
	}
	switch req.Path {
	case "/create-db":
		req.SQL = "CREATE DATABASE " + wr.DatabaseName
		if wr.IfNotExists {
			req.SQL = "CREATE DATABASE IF NOT EXISTS " + wr.DatabaseName
		}
	case "/drop-db":
		req.SQL = "DROP DATABASE " + wr.DatabaseName
	case "/start-transaction":
		req.SQL = "BEGIN"
	case "/commit-transaction":
		req.SQL = "COMMIT"
	case "/rollback-transaction":
		req.SQL = "ROLLBACK"
	}
	s.mu.Lock()
	s.mu.requests = append(s.mu.requests, req)
	s.mu.Unlock()
	return req, true
}

func (s *Server) serveTxn(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	s.answerTxn(w, req)
}

// answerTxn handles BEGIN/COMMIT/ROLLBACK and reports whether it did.
func (s *Server) answerTxn(w http.ResponseWriter, req Request) bool {
	verb := strings.ToUpper(strings.Join(strings.Fields(strings.TrimRight(strings.TrimSpace(req.SQL), ";")), " "))
	s.mu.Lock()
	defer s.mu.Unlock()
	switch verb {
	case "BEGIN", "START TRANSACTION", "BEGIN TRANSACTION":
		s.mu.counter++
		id := TxnID{PT: 1700000000000, Counter: s.mu.counter}
		s.mu.txns[id] = true
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "kind": "begin", "txnIdPT": id.PT, "txnIdCounter": id.Counter,
			"total": 0, "columns": []any{}, "rows": []any{}})
		return true
	case "COMMIT", "ROLLBACK":
		if req.Txn == nil || !s.mu.txns[*req.Txn] {
			writeReply(w, Fail(errcode.TxnClosed, "no such transaction"), "")
			return true
		}
		delete(s.mu.txns, *req.Txn)
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "kind": strings.ToLower(verb), "total": 0, "columns": []any{}, "rows": []any{}})
		return true
	}
	return false
}

func (s *Server) serveSQL(w http.ResponseWriter, r *http.Request) {
	req, ok := s.decode(w, r)
	if !ok {
		return
	}
	if req.Txn != nil {
		s.mu.Lock()
		open := s.mu.txns[*req.Txn]
		s.mu.Unlock()
		if !open {
			writeReply(w, Fail(errcode.TxnClosed, "no such transaction"), "")
			return
		}
	}
	if req.Path == "/execute-sql-query" && s.answerTxn(w, req) {
		return
	}
	reply := OK()
	if s.handler != nil {
		reply = s.handler(req)
	}
	if reply.code == "" && req.Path == "/execute-sql-non-query" && reply.affected >= 0 {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "rows": reply.affected})
		return
	}
	writeReply(w, reply, req.RowFormat)
}

func writeReply(w http.ResponseWriter, reply Reply, rowFormat string) {
	if reply.code != "" {
		writeJSON(w, reply.status, map[string]any{"status": "failed", "code": string(reply.code), "message": reply.message})
		return
	}
	body := map[string]any{"status": "ok", "kind": "ddl", "total": len(reply.rows)}
	switch {
	case reply.hasRows:
		body["kind"] = "rows"
	case reply.affected >= 0:
		body["kind"] = "affected"
	}
	if reply.database != "" {
		body["databaseName"] = reply.database
	}
	cols := make([]map[string]any, len(reply.cols))
	for i, c := range reply.cols {
		cols[i] = map[string]any{"name": c.Name, "type": c.Type}
	}
	body["columns"] = cols
	rows := make([]any, len(reply.rows))
	for i, row := range reply.rows {
		if rowFormat == "array" {
			vals := make([]any, len(row))
			for j, v := range row {
				vals[j] = columnValue(v)
			}
			rows[i] = vals
		} else {
			obj := make(map[string]any, len(row))
			for j, v := range row {
				obj[reply.cols[j].Name] = columnValue(v)
			}
			rows[i] = obj
		}
	}
	body["rows"] = rows
	if reply.affected >= 0 {
		body["rowsAffected"] = reply.affected
	}
	writeJSON(w, reply.status, body)
}

// columnValue renders v with all five fields, as the server does.
func columnValue(v any) map[string]any {
	out := map[string]any{"type": 0, "strValue": nil, "longValue": 0, "floatValue": 0.0, "boolValue": false}
	switch x := v.(type) {
	case nil:
	case OID:
		out["type"], out["strValue"] = 1, string(x)
	case int:
		out["type"], out["longValue"] = 2, x
	case int64:
		out["type"], out["longValue"] = 2, x
	case string:
		out["type"], out["strValue"] = 3, x
	case bool:
		out["type"], out["boolValue"] = 4, x
	case float64:
		out["type"], out["floatValue"] = 5, x
	default:
		panic(fmt.Sprintf("clienttest: unsupported row value %T", v))
	}
	return out
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
