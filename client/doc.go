// Package client is the Go client for the CamusDB HTTP API (SPEC §3).
//
// A Client holds a list of endpoints (the HTTP addresses of the nodes of one
// cluster) and a tuned http.Client. Every request starts at the next endpoint
// in round-robin order; an endpoint that cannot be dialled is marked down for
// a short while and the request moves on to the next one. Only dial failures
// are retried on another endpoint: once a request may have reached a server,
// its error is returned to the caller, because retrying a write elsewhere
// could apply it twice.
//
// Usage:
//
//	c := client.New([]string{"http://127.0.0.1:5095"})
//	defer c.Close()
//	if err := c.Ping(ctx); err != nil { ... }
//	res, err := c.Query(ctx, "test", "SELECT id, name FROM robots WHERE year > @y",
//		map[string]any{"y": 2020}, nil)
//	for _, row := range res.Rows { id := row[0].(string); ... }
//
//	txn, err := c.Begin(ctx, "test")
//	n, err := c.Exec(ctx, "test", "UPDATE robots SET year = 2025 WHERE id = @id", params, txn)
//	err = c.Commit(ctx, txn)
//
// Query sends any statement to /execute-sql-query and says what it was in
// Result.Kind ("rows", "affected", "ddl", "begin", "commit", "rollback"); a
// BEGIN returns the new transaction in Result.Txn, and COMMIT/ROLLBACK sent
// as SQL act on the txn argument. Exec and ExecDDL use the dedicated
// endpoints. ParseConnectionString reads the "Endpoint=...;Database=..."
// strings of camus-cli and camus-dump (with optional User= and Password=);
// package clienttest is a fake server for tests. WithCredentials
// authenticates every request (HTTP Basic); wrong credentials are
// CADB0020, a denied statement CADB0021. WithTLSConfig sets the TLS
// configuration of https endpoints (RootCAs with the cluster's ca.crt).
//
// Values: query results decode the column value objects of SPEC §3.1 into
// nil (NULL), int64, float64, string, bool, and OIDs as their 24-character
// lower-case hex string. Parameters accept nil, every Go integer type,
// float32/float64, string, bool, []byte of 12 bytes or an OID (sent as an
// object id), and time.Time (sent as an RFC 3339 string).
//
// Errors returned by the server are *Error values carrying the CADB code and
// the HTTP status; Error.Retryable reports whether the transaction may be
// retried (CADB0502, CADB0503, CADB0504). Transport failures are returned as
// they come from net/http (wrapped), and ErrNoEndpoint wraps the last dial
// error when no endpoint could be reached.
//
// What it does not do: it keeps no session state (the current database is an
// argument of every call), it does not retry statements on retryable errors
// (see RunTxn for a helper that does, for whole transactions), and it is not
// a database/sql driver.
//
// A Client is safe for concurrent use; a *Txn is not.
package client
