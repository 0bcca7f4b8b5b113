package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// txnFields name an explicit transaction in a request. Both or neither must
// be given; (0, 0) means none, as CamusDB clients send it.
type txnFields struct {
	TxnIDPT      *int64 `json:"txnIdPT"`
	TxnIDCounter *int64 `json:"txnIdCounter"`
}

func (t txnFields) handle() (*session.TxnHandle, error) {
	if t.TxnIDPT == nil && t.TxnIDCounter == nil {
		return nil, nil
	}
	if t.TxnIDPT == nil || t.TxnIDCounter == nil {
		return nil, errcode.New(errcode.InvalidInput, "txnIdPT and txnIdCounter must be given together")
	}
	if *t.TxnIDPT == 0 && *t.TxnIDCounter == 0 {
		return nil, nil
	}
	return &session.TxnHandle{PT: *t.TxnIDPT, Counter: *t.TxnIDCounter}, nil
}

// requiredHandle is handle() for the endpoints that need a transaction.
func (t txnFields) requiredHandle() (session.TxnHandle, error) {
	h, err := t.handle()
	if err != nil {
		return session.TxnHandle{}, err
	}
	if h == nil {
		return session.TxnHandle{}, errcode.New(errcode.InvalidInput, "txnIdPT and txnIdCounter are required")
	}
	return *h, nil
}

func (s *Server) handlePing(w http.ResponseWriter, _ *http.Request) error {
	buf := getBuf()
	defer buf.release()
	buf.raw(`{"status":"ok","dateTime":"`)
	buf.b = s.now().UTC().AppendFormat(buf.b, time.RFC3339Nano)
	buf.raw(`"}`)
	writeJSON(w, http.StatusOK, buf.b)
	return nil
}

type databaseRequest struct {
	DatabaseName string `json:"databaseName"`
	IfNotExists  bool   `json:"ifNotExists"`
	IfExists     bool   `json:"ifExists"`
}

func (s *Server) handleCreateDB(w http.ResponseWriter, r *http.Request) error {
	return s.databaseStatement(w, r, "CREATE DATABASE ", "IF NOT EXISTS ", func(req *databaseRequest) bool { return req.IfNotExists })
}

func (s *Server) handleDropDB(w http.ResponseWriter, r *http.Request) error {
	return s.databaseStatement(w, r, "DROP DATABASE ", "IF EXISTS ", func(req *databaseRequest) bool { return req.IfExists })
}

// databaseStatement runs `verb [ifClause] name` built from a database
// request; conditional says whether the request asked for ifClause.
func (s *Server) databaseStatement(w http.ResponseWriter, r *http.Request, verb, ifClause string, conditional func(*databaseRequest) bool) error {
	var req databaseRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	name, err := quoteIdent("databaseName", req.DatabaseName)
	if err != nil {
		return err
	}
	sql := verb + name
	if conditional(&req) {
		sql = verb + ifClause + name
	}
	if _, err := s.exec.Execute(r.Context(), session.Request{SQL: sql}); err != nil {
		return err
	}
	writeOK(w)
	return nil
}

// handleCloseDB is kept for CamusDB compatibility: databases are not opened
// or closed per client here, so it only checks the request.
func (s *Server) handleCloseDB(w http.ResponseWriter, r *http.Request) error {
	var req databaseRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if _, err := quoteIdent("databaseName", req.DatabaseName); err != nil {
		return err
	}
	writeOK(w)
	return nil
}

// sqlRequest is the body of the /execute-sql-* endpoints.
type sqlRequest struct {
	DatabaseName string               `json:"databaseName"`
	SQL          string               `json:"sql"`
	Parameters   map[string]wireValue `json:"parameters"`
	RowFormat    string               `json:"rowFormat"`
	// StandardConformingStrings reads string literals as pgwire does
	// (backslash is an ordinary character outside E'...'); off by default,
	// the HTTP dialect of backslash escapes.
	StandardConformingStrings bool `json:"standardConformingStrings"`
	// TimeoutMs bounds the statement (0 or absent: the node default,
	// http_request_timeout_ms).
	TimeoutMs int64 `json:"timeoutMs"`
	txnFields
	// params are the parameters in session form when the fast decoder
	// (decode.go) read them; Parameters is unused then.
	params        map[string]types.Value
	paramsScanned bool
}

// maxTimeoutMs is the largest timeoutMs (as PostgreSQL's statement_timeout).
const maxTimeoutMs = 1<<31 - 1

// sessionRequest validates req and converts it for the Executor.
func (req *sqlRequest) sessionRequest() (session.Request, error) {
	if req.SQL == "" {
		return session.Request{}, errcode.New(errcode.InvalidInput, "sql is required")
	}
	params := req.params
	if !req.paramsScanned {
		var err error
		if params, err = paramsFromWire(req.Parameters); err != nil {
			return session.Request{}, err
		}
	}
	txn, err := req.handle()
	if err != nil {
		return session.Request{}, err
	}
	if req.TimeoutMs < 0 || req.TimeoutMs > maxTimeoutMs {
		return session.Request{}, errcode.New(errcode.InvalidInput, "timeoutMs must be between 1 and %d milliseconds (0 or absent: http_request_timeout_ms), got %d", maxTimeoutMs, req.TimeoutMs)
	}
	out := session.Request{Database: req.DatabaseName, SQL: req.SQL, Params: params, Txn: txn,
		StandardStrings: req.StandardConformingStrings}
	if req.TimeoutMs > 0 {
		out.Timeout, out.TimeoutSetting = time.Duration(req.TimeoutMs)*time.Millisecond, "timeoutMs"
	}
	return out, nil
}

func checkRowFormat(format string) (string, error) {
	switch format {
	case "", rowFormatObject:
		return rowFormatObject, nil
	case rowFormatArray:
		return rowFormatArray, nil
	}
	return "", errcode.New(errcode.InvalidInput, `rowFormat must be "object" or "array", got %q`, format)
}

// handleSQLQuery runs any statement and answers in the query shape.
func (s *Server) handleSQLQuery(w http.ResponseWriter, r *http.Request) error {
	var req sqlRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	format, err := checkRowFormat(req.RowFormat)
	if err != nil {
		return err
	}
	sreq, err := req.sessionRequest()
	if err != nil {
		return err
	}
	res, err := s.exec.Execute(r.Context(), sreq)
	if err != nil {
		return err
	}
	return s.writeQueryResult(w, res, format)
}

// writeQueryResult encodes res whole before writing it, so a result over
// http_max_result_bytes fails with CADB0509 and no partial JSON.
func (s *Server) writeQueryResult(w http.ResponseWriter, res *session.Result, format string) error {
	if res == nil {
		return errcode.New(errcode.Internal, "executor returned no result")
	}
	buf := getBuf()
	defer buf.release()
	buf.queryResult(res, format)
	if int64(len(buf.b)) > s.maxResult {
		return errcode.New(errcode.ResultTooLarge,
			"the result of %d rows is %d bytes of JSON, over http_max_result_bytes (%d): fetch it in pages with LIMIT/OFFSET (or a key range), or use the PostgreSQL wire protocol, which streams rows",
			len(res.Rows), len(buf.b), s.maxResult)
	}
	writeJSON(w, http.StatusOK, buf.b)
	return nil
}

// handleSQLDDL runs DDL (and transaction control); statements that return
// rows or modify rows are refused before they run.
func (s *Server) handleSQLDDL(w http.ResponseWriter, r *http.Request) error {
	var req sqlRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if kw := firstKeyword(req.SQL); returnsRows(kw) || isDML(kw) {
		return errcode.New(errcode.InvalidInput, "%s is not DDL: use /execute-sql-query or /execute-sql-non-query", kw)
	}
	sreq, err := req.sessionRequest()
	if err != nil {
		return err
	}
	res, err := s.exec.Execute(r.Context(), sreq)
	if err != nil {
		return err
	}
	if res != nil && res.Txn != nil {
		buf := getBuf()
		defer buf.release()
		buf.raw(`{"status":"ok"`)
		buf.txnFields(*res.Txn)
		buf.byte('}')
		writeJSON(w, http.StatusOK, buf.b)
		return nil
	}
	writeOK(w)
	return nil
}

// handleSQLNonQuery runs a statement that returns no rows and answers
// {"status":"ok","rows":affected}; row-returning statements are refused
// before they run.
func (s *Server) handleSQLNonQuery(w http.ResponseWriter, r *http.Request) error {
	var req sqlRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	if kw := firstKeyword(req.SQL); returnsRows(kw) {
		return errcode.New(errcode.InvalidInput, "%s returns rows: use /execute-sql-query", kw)
	}
	sreq, err := req.sessionRequest()
	if err != nil {
		return err
	}
	res, err := s.exec.Execute(r.Context(), sreq)
	if err != nil {
		return err
	}
	return writeAffected(w, res)
}

// writeAffected answers {"status":"ok","rows":n} (+ the handle after BEGIN).
func writeAffected(w http.ResponseWriter, res *session.Result) error {
	if res == nil {
		return errcode.New(errcode.Internal, "executor returned no result")
	}
	buf := getBuf()
	defer buf.release()
	buf.raw(`{"status":"ok","rows":`)
	buf.int(res.RowsAffected)
	if res.Txn != nil {
		buf.txnFields(*res.Txn)
	}
	buf.byte('}')
	writeJSON(w, http.StatusOK, buf.b)
	return nil
}

func (s *Server) handleStartTxn(w http.ResponseWriter, r *http.Request) error {
	var req databaseRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	h, err := s.exec.Begin(r.Context(), req.DatabaseName)
	if err != nil {
		return err
	}
	buf := getBuf()
	defer buf.release()
	buf.raw(`{"status":"ok"`)
	buf.txnFields(h)
	buf.byte('}')
	writeJSON(w, http.StatusOK, buf.b)
	return nil
}

type endTxnRequest struct {
	DatabaseName string `json:"databaseName"`
	txnFields
}

func (s *Server) handleCommitTxn(w http.ResponseWriter, r *http.Request) error {
	return s.endTxn(w, r, s.exec.Commit)
}

func (s *Server) handleRollbackTxn(w http.ResponseWriter, r *http.Request) error {
	return s.endTxn(w, r, s.exec.Rollback)
}

func (s *Server) endTxn(w http.ResponseWriter, r *http.Request, end func(ctx context.Context, h session.TxnHandle) error) error {
	var req endTxnRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	h, err := req.requiredHandle()
	if err != nil {
		return err
	}
	if err := end(r.Context(), h); err != nil {
		return err
	}
	writeOK(w)
	return nil
}

func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) error {
	s.promServer.ServeHTTP(w, r)
	return nil
}

func (s *Server) handleClusterStatus(w http.ResponseWriter, r *http.Request) error {
	st, err := s.status.ClusterStatus(r.Context())
	if err != nil {
		return err
	}
	if r.URL.Query().Get("consistency") == "true" {
		if cp, ok := s.status.(ConsistencyProvider); ok {
			if st.Consistency, err = cp.Consistency(r.Context()); err != nil {
				return err
			}
		}
	}
	if st.Nodes == nil {
		st.Nodes = []NodeStatus{}
	}
	if st.Partitions == nil {
		st.Partitions = []PartitionStatus{}
	}
	for i := range st.Partitions {
		if st.Partitions[i].Replicas == nil {
			st.Partitions[i].Replicas = []uint64{}
		}
	}
	body, err := json.Marshal(struct {
		Status string `json:"status"`
		ClusterStatus
	}{"ok", st})
	if err != nil {
		return errcode.Wrap(errcode.Internal, err)
	}
	writeJSON(w, http.StatusOK, body)
	return nil
}
