// This file and dump_format.go are camus-dump, the logical backup tool
// (SPEC §8), built on package client:
//
//   - dump.go         the cobra command, RunDump, the snapshot reader
//   - dump_format.go  SQL literals, identifiers, batched INSERT statements
//
// Guarantees: every table is read inside one transaction (BEGIN, SELECTs
// carrying it, ROLLBACK), so the dump is one serializable snapshot even under
// concurrent writes; the output is SHOW CREATE TABLE's DDL (which includes
// the indexes) and multi-row INSERTs that camus-cli -f restores into
// whichever database it targets (the dump names none). The output is
// written to a temporary file first and only renamed to -o (or copied to
// stdout) once the snapshot is complete, so a failed dump never leaves a
// truncated file that looks like a backup; a retryable failure restarts the
// whole snapshot. Not done: a single row larger than the server's request
// limit cannot be restored; the dump is not compressed.

package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/spf13/cobra"
)

// Defaults of camus-dump.
const (
	DumpDefaultBatchRows  = 100
	DumpDefaultBatchBytes = 512 << 10
	DumpDefaultPageRows   = 2000
	DumpDefaultAttempts   = 5
)

// DumpOptions configures RunDump. Zero values take the defaults.
type DumpOptions struct {
	Endpoints []string // default ShellDefaultURL
	// Credentials authenticate every request (none by default).
	Credentials Credentials
	Database    string // default ShellDefaultDatabase
	// Tables to dump, in this order (an entry may be a comma-separated
	// list); empty means every table (SHOW TABLES).
	Tables     []string
	SchemaOnly bool
	DataOnly   bool
	// Output is the file to write; "" or "-" means Stdout.
	Output string
	Stdout io.Writer
	Stderr io.Writer
	// BatchRows and BatchBytes bound one INSERT statement.
	BatchRows  int
	BatchBytes int
	// PageRows is how many rows one SELECT fetches from a table whose
	// primary key is one INT64, STRING or OID column (read in key order,
	// page after page, inside the same transaction); other tables are read
	// with one SELECT.
	PageRows int
	// Attempts bounds how often the snapshot is taken again after a
	// retryable error (conflict, leadership change).
	Attempts int
}

type dumpFlags struct {
	connection string
	urls       []string
	database   string
	tables     []string
	schemaOnly bool
	dataOnly   bool
	output     string
	batchRows  int
	user       string
	certsDir   string
}

// NewDumpCommand builds the camus-dump root command.
//
//	camus-dump [database] [-c "Endpoint=URL[,URL...];Database=db"] [--url URL]
//	           [--database db] [--table t]... [--schema-only|--data-only] [-o FILE]
//
// Precedence as in camus-cli: --url over the connection string's Endpoint,
// the positional database then --database over its Database; defaults
// http://localhost:5095 and "test".
func NewDumpCommand() *cobra.Command {
	var f dumpFlags
	cmd := &cobra.Command{
		Use:   "camus-dump [database]",
		Short: "Logical backup of a CamusDB database as SQL text",
		Long: "camus-dump writes CREATE TABLE statements and batched INSERTs for every table of a\n" +
			"database (or the --table ones), read in one consistent snapshot. Restore with\n" +
			"camus-cli DATABASE -f FILE.",
		Args:    cobra.MaximumNArgs(1),
		Version: VersionString(),
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			return runDumpCommand(cmd, args, &f)
		},
	}
	cmd.CompletionOptions.DisableDefaultCmd = true
	fl := cmd.Flags()
	fl.StringVarP(&f.connection, "connection", "c", "", `connection string "Endpoint=http://host:5095[,http://host2:5096];Database=db"`)
	fl.StringSliceVar(&f.urls, "url", nil, "server URL (repeat or comma-separate for several; default "+ShellDefaultURL+")")
	fl.StringVarP(&f.database, "database", "d", "", "database to dump (default "+ShellDefaultDatabase+")")
	fl.StringArrayVarP(&f.tables, "table", "t", nil, "dump only this table (repeat or comma-separate for several)")
	fl.BoolVar(&f.schemaOnly, "schema-only", false, "write only the CREATE statements")
	fl.BoolVar(&f.dataOnly, "data-only", false, "write only the INSERT statements")
	fl.StringVarP(&f.output, "output", "o", "", "write the dump to this file (default stdout)")
	addUserFlag(fl, &f.user, &f.certsDir)
	fl.IntVar(&f.batchRows, "batch-rows", DumpDefaultBatchRows, "rows per INSERT statement")
	cmd.MarkFlagsMutuallyExclusive("schema-only", "data-only")
	return cmd
}

// DumpExitCode maps the error of the camus-dump command to the process
// exit code (same codes as camus-cli: 0 ok, 1 failed, 2 unreachable).
func DumpExitCode(err error) int { return ShellExitCode(err) }

func runDumpCommand(cmd *cobra.Command, args []string, f *dumpFlags) error {
	var conn client.ConnConfig
	if f.connection != "" {
		var err error
		if conn, err = client.ParseConnectionString(f.connection); err != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "camus-dump: %v\n", err)
			return &shellExitError{code: ShellExitFailed, err: err}
		}
	}
	endpoints := conn.Endpoints
	if len(f.urls) > 0 {
		endpoints = f.urls
	}
	creds, err := resolveCredentials(f.user, f.certsDir, conn, cmd.InOrStdin(), cmd.ErrOrStderr())
	if err != nil {
		fmt.Fprintf(cmd.ErrOrStderr(), "camus-dump: %v\n", err)
		return &shellExitError{code: ShellExitFailed, err: err}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	return RunDump(ctx, DumpOptions{
		Credentials: creds,
		Endpoints:   endpoints,
		Database:    shellFirstNonEmpty(shellArgAt(args, 0), f.database, conn.Database),
		Tables:      f.tables,
		SchemaOnly:  f.schemaOnly,
		DataOnly:    f.dataOnly,
		Output:      f.output,
		Stdout:      cmd.OutOrStdout(),
		Stderr:      cmd.ErrOrStderr(),
		BatchRows:   f.batchRows,
	})
}

// RunDump writes the dump. Errors are printed to Stderr; the returned error
// maps to the exit code with DumpExitCode.
func RunDump(ctx context.Context, o DumpOptions) error {
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	fail := func(code int, err error) error {
		fmt.Fprintf(o.Stderr, "camus-dump: %v\n", err)
		return &shellExitError{code: code, err: err}
	}
	if o.SchemaOnly && o.DataOnly {
		return fail(ShellExitFailed, errors.New("--schema-only and --data-only exclude each other"))
	}
	if len(o.Endpoints) == 0 {
		o.Endpoints = []string{ShellDefaultURL}
	}
	if o.Database == "" {
		o.Database = ShellDefaultDatabase
	}
	if o.BatchRows <= 0 {
		o.BatchRows = DumpDefaultBatchRows
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = DumpDefaultBatchBytes
	}
	if o.PageRows <= 0 {
		o.PageRows = DumpDefaultPageRows
	}
	if o.Attempts <= 0 {
		o.Attempts = DumpDefaultAttempts
	}

	c := client.New(o.Endpoints, o.Credentials.clientOptions()...)
	defer c.Close()
	if err := shellWaitReady(ctx, c, 10*time.Second); err != nil {
		return fail(ShellExitUnreachable, fmt.Errorf("cannot reach CamusDB at %s: %w", strings.Join(c.Endpoints(), ", "), err))
	}

	// The snapshot goes to a temporary file: next to the target so the
	// final rename is atomic, or in the temp dir when writing to stdout.
	toStdout := o.Output == "" || o.Output == "-"
	dir := os.TempDir()
	if !toStdout {
		dir = filepath.Dir(o.Output)
	}
	tmp, err := os.CreateTemp(dir, ".camus-dump-*")
	if err != nil {
		return fail(ShellExitFailed, err)
	}
	defer func() {
		tmp.Close()
		os.Remove(tmp.Name())
	}()

	d := &dumper{q: c, opts: &o}
	for attempt := 1; ; attempt++ {
		if err = d.snapshotTo(ctx, tmp); err == nil {
			break
		}
		if !client.IsRetryable(err) || attempt >= o.Attempts || ctx.Err() != nil {
			return fail(ShellExitFailed, err)
		}
		if err := dumpRewind(tmp); err != nil {
			return fail(ShellExitFailed, err)
		}
		select {
		case <-ctx.Done():
			return fail(ShellExitFailed, ctx.Err())
		case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
		}
	}

	if toStdout {
		if _, err := tmp.Seek(0, io.SeekStart); err != nil {
			return fail(ShellExitFailed, err)
		}
		if _, err := io.Copy(o.Stdout, tmp); err != nil {
			return fail(ShellExitFailed, err)
		}
		return nil
	}
	if err := tmp.Sync(); err != nil {
		return fail(ShellExitFailed, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fail(ShellExitFailed, err)
	}
	if err := tmp.Close(); err != nil {
		return fail(ShellExitFailed, err)
	}
	if err := os.Rename(tmp.Name(), o.Output); err != nil {
		return fail(ShellExitFailed, err)
	}
	return nil
}

func dumpRewind(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	_, err := f.Seek(0, io.SeekStart)
	return err
}

// dumpQuerier is what the dumper needs from *client.Client.
type dumpQuerier interface {
	Begin(ctx context.Context, db string) (*client.Txn, error)
	Query(ctx context.Context, db, sql string, params map[string]any, txn *client.Txn) (*client.Result, error)
	Rollback(ctx context.Context, txn *client.Txn) error
}

// dumper reads one snapshot of a database and writes it as SQL.
type dumper struct {
	q    dumpQuerier
	opts *DumpOptions
}

// snapshotTo writes the whole dump to w from one transaction, which is
// rolled back at the end (it only read).
func (d *dumper) snapshotTo(ctx context.Context, w io.Writer) (err error) {
	db := d.opts.Database
	txn, err := d.q.Begin(ctx, db)
	if err != nil {
		return err
	}
	defer func() {
		rbErr := d.q.Rollback(context.WithoutCancel(ctx), txn)
		if err == nil && rbErr != nil && client.CodeOf(rbErr) != client.CodeTxnClosed {
			err = fmt.Errorf("ending the snapshot transaction: %w", rbErr)
		}
	}()
	query := func(sql string, params map[string]any) (*client.Result, error) {
		res, err := d.q.Query(ctx, db, sql, params, txn)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", sql, err)
		}
		return res, nil
	}

	tables, err := d.tables(query)
	if err != nil {
		return err
	}
	seqs, err := d.sequences(query, tables)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	fmt.Fprintf(bw, "-- CamusDB dump (camus-dump %s), %d table(s).\n", buildVersion, len(tables))
	fmt.Fprintf(bw, "-- Restore with: camus-cli DATABASE -f FILE\n")
	// Sequences first: the tables' defaults call nextval on them. An
	// identity column's sequence is created by its table's DDL instead.
	for _, sq := range seqs {
		if !sq.identity {
			d.writeSequence(bw, sq, "CREATE")
		}
	}
	var views []string
	for _, table := range tables {
		view, err := d.table(query, bw, table)
		if err != nil {
			return err
		}
		if view != "" {
			views = append(views, view)
		}
	}
	for _, sq := range seqs {
		switch {
		case sq.identity:
			d.writeSequence(bw, sq, "ALTER")
		case sq.ownedBy != "" && !d.opts.DataOnly:
			fmt.Fprintf(bw, "ALTER SEQUENCE %s OWNED BY %s;\n", dumpQuoteIdent(sq.name), sq.ownedBy)
		}
	}
	// Views last: their queries read the tables above (a view over a
	// view whose name sorts after it is not reordered).
	if !d.opts.DataOnly {
		for _, v := range views {
			fmt.Fprintf(bw, "\n%s;\n", v)
		}
	}
	return bw.Flush()
}

type dumpQueryFunc func(sql string, params map[string]any) (*client.Result, error)

// tables returns the tables to dump: the requested ones (lower-cased, as
// the server folds identifiers; each is checked by SHOW CREATE TABLE) or
// every table of the snapshot.
func (d *dumper) tables(query dumpQueryFunc) ([]string, error) {
	if len(d.opts.Tables) > 0 {
		seen := map[string]bool{}
		var out []string
		for _, arg := range d.opts.Tables {
			// "--table a,b" is "--table a --table b" (like --url).
			for _, t := range strings.Split(arg, ",") {
				t = strings.ToLower(strings.TrimSpace(t))
				if t != "" && !seen[t] {
					seen[t] = true
					out = append(out, t)
				}
			}
		}
		return out, nil
	}
	res, err := query("SHOW TABLES", nil)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, row := range res.Rows {
		name, ok := row[0].(string)
		if !ok {
			return nil, fmt.Errorf("SHOW TABLES returned %T, want a table name", row[0])
		}
		out = append(out, name)
	}
	return out, nil
}

// table writes one table's DDL and rows; a view is returned (its DDL)
// instead, to be written after every table.
func (d *dumper) table(query dumpQueryFunc, w *bufio.Writer, table string) (view string, err error) {
	qt := dumpQuoteIdent(table)
	res, err := query("SHOW CREATE TABLE "+qt, nil)
	if err != nil {
		return "", err
	}
	ddl, err := dumpColumnString(res, "create_table")
	if err != nil {
		return "", fmt.Errorf("SHOW CREATE TABLE %s: %w", qt, err)
	}
	if strings.HasPrefix(ddl, "CREATE VIEW ") {
		return strings.TrimRight(ddl, "; \n"), nil
	}
	if strings.HasPrefix(ddl, "CREATE SEQUENCE ") {
		return "", nil // written with the sequences
	}
	return "", d.tableRows(query, w, table, qt, ddl)
}

// tableRows writes a table's DDL (ddl) and rows.
func (d *dumper) tableRows(query dumpQueryFunc, w *bufio.Writer, table, qt, ddl string) error {
	fmt.Fprintf(w, "\n-- Table %s\n", strings.NewReplacer("\n", " ", "\r", " ").Replace(qt))
	if !d.opts.DataOnly {
		fmt.Fprintf(w, "%s;\n", strings.TrimRight(ddl, "; \n"))
	}
	if d.opts.SchemaOnly {
		return nil
	}

	pk, err := d.pagingKey(query, qt)
	if err != nil {
		return err
	}
	var iw *dumpInsertWriter
	emit := func(res *client.Result) error {
		if iw == nil {
			iw = newDumpInsertWriter(w, table, res.Columns, d.opts.BatchRows, d.opts.BatchBytes)
			if strings.Contains(ddl, " GENERATED ALWAYS AS IDENTITY") {
				// The rows keep their identity values.
				iw.prefix = strings.Replace(iw.prefix, ") VALUES\n", ") OVERRIDING SYSTEM VALUE VALUES\n", 1)
			}
		}
		for _, row := range res.Rows {
			if err := iw.add(row); err != nil {
				return fmt.Errorf("table %s: %w", table, err)
			}
		}
		return nil
	}
	if pk == nil {
		res, err := query("SELECT * FROM "+qt, nil)
		if err != nil {
			return err
		}
		if err := emit(res); err != nil {
			return err
		}
	} else if err := d.pages(query, qt, pk, emit); err != nil {
		return err
	}
	if iw == nil {
		return nil
	}
	return iw.flush()
}

// dumpPagingKey is a single-column primary key a table can be read by, page
// after page, in key order.
type dumpPagingKey struct {
	column string
	kind   client.Kind
	desc   bool
}

// pagingKey finds the table's primary key in SHOW INDEXES ("~pk") and its
// type in SHOW COLUMNS; nil when the key is composite, hidden (no primary
// key) or of a type whose order is not a total order on values (FLOAT64
// with NaN, BOOL gains nothing).
func (d *dumper) pagingKey(query dumpQueryFunc, qt string) (*dumpPagingKey, error) {
	idx, err := query("SHOW INDEXES FROM "+qt, nil)
	if err != nil {
		return nil, err
	}
	nameCol, colsCol := dumpColumnIndex(idx, "index"), dumpColumnIndex(idx, "columns")
	if nameCol < 0 || colsCol < 0 {
		return nil, nil
	}
	var pkCols string
	for _, row := range idx.Rows {
		if row[nameCol] == "~pk" {
			pkCols, _ = row[colsCol].(string)
		}
	}
	if pkCols == "" || strings.Contains(pkCols, ",") {
		return nil, nil
	}
	key := &dumpPagingKey{column: strings.TrimSpace(pkCols)}
	if name, ok := strings.CutSuffix(key.column, " DESC"); ok {
		key.column, key.desc = name, true
	}
	key.column = strings.Trim(strings.TrimSuffix(key.column, " ASC"), "`")

	cols, err := query("SHOW COLUMNS FROM "+qt, nil)
	if err != nil {
		return nil, err
	}
	fieldCol, typeCol := dumpColumnIndex(cols, "field"), dumpColumnIndex(cols, "type")
	if fieldCol < 0 || typeCol < 0 {
		return nil, nil
	}
	for _, row := range cols.Rows {
		if row[fieldCol] != key.column {
			continue
		}
		typ, _ := row[typeCol].(string)
		typ, _, _ = strings.Cut(strings.ToUpper(typ), "(")
		switch typ {
		case "INT64", "INTEGER", "SMALLINT":
			key.kind = client.KindInt64
		case "STRING", "VARCHAR", "CHAR":
			key.kind = client.KindString
		case "OID":
			key.kind = client.KindOID
		case "BYTEA", "DATE", "TIMESTAMP", "TIMESTAMPTZ", "INTERVAL", "NUMERIC", "UUID", "JSONB":
			// The page bound goes as its text, which the comparison
			// with the key column reads back as the column's type.
			key.kind = client.KindString
		default:
			return nil, nil
		}
		return key, nil
	}
	return nil, nil
}

// pages reads a table in primary-key order, PageRows rows per SELECT, each
// page starting after the last key of the previous one. All pages are read
// in the snapshot transaction; a final COUNT(*) in the same snapshot checks
// that paging saw every row.
func (d *dumper) pages(query dumpQueryFunc, qt string, pk *dumpPagingKey, emit func(*client.Result) error) error {
	qc := dumpQuoteIdent(pk.column)
	order, after := " ORDER BY "+qc, " > "
	if pk.desc {
		order, after = " ORDER BY "+qc+" DESC", " < "
	}
	limit := fmt.Sprintf(" LIMIT %d", d.opts.PageRows)
	var total int64
	var params map[string]any
	for {
		sql := "SELECT * FROM " + qt + order + limit
		if params != nil {
			sql = "SELECT * FROM " + qt + " WHERE " + qc + after + "@dump_after" + order + limit
		}
		res, err := query(sql, params)
		if err != nil {
			return err
		}
		if err := emit(res); err != nil {
			return err
		}
		total += int64(len(res.Rows))
		if len(res.Rows) < d.opts.PageRows {
			break
		}
		keyCol := dumpColumnIndex(res, pk.column)
		if keyCol < 0 {
			return fmt.Errorf("SELECT * FROM %s has no column %s", qt, pk.column)
		}
		last := res.Rows[len(res.Rows)-1][keyCol]
		if pk.kind == client.KindOID {
			s, _ := last.(string)
			last = client.OID(s)
		}
		params = map[string]any{"dump_after": last}
	}
	res, err := query("SELECT COUNT(*) FROM "+qt, nil)
	if err != nil {
		return err
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 || res.Rows[0][0] != total {
		return fmt.Errorf("table %s: paging read %d rows but the snapshot holds %v", qt, total, res.Rows)
	}
	return nil
}

// dumpColumnIndex returns the position of the named output column, or -1.
func dumpColumnIndex(res *client.Result, name string) int {
	for i, c := range res.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// dumpColumnString returns the string in the named column of a one-row result.
func dumpColumnString(res *client.Result, name string) (string, error) {
	i := dumpColumnIndex(res, name)
	if i < 0 || len(res.Rows) != 1 {
		return "", fmt.Errorf("want one row with a %s column, got %d rows", name, len(res.Rows))
	}
	s, ok := res.Rows[0][i].(string)
	if !ok {
		return "", fmt.Errorf("%s is %T, want a string", name, res.Rows[0][i])
	}
	return s, nil
}

// dumpSequence is one row of SHOW SEQUENCES.
type dumpSequence struct {
	name     string
	options  string // CREATE SEQUENCE options, OWNED BY left out
	last     int64
	isCalled bool
	ownedBy  string // "table.column" (quoted as needed) or ""
	identity bool   // the sequence of an identity column
}

// sequences lists the sequences to dump: every one, or with --table those
// the dumped tables own.
func (d *dumper) sequences(query dumpQueryFunc, tables []string) ([]dumpSequence, error) {
	res, err := query("SHOW SEQUENCES", nil)
	if client.CodeOf(err) == client.CodeSyntaxError {
		return nil, nil // a server from before sequences
	}
	if err != nil {
		return nil, err
	}
	col := func(name string) int { return dumpColumnIndex(res, name) }
	iName, iOpts, iLast, iCalled, iOwner, iIdentity := col("sequence_name"), col("options"), col("last_value"), col("is_called"), col("owned_by"), col("identity")
	if iName < 0 || iOpts < 0 || iLast < 0 || iCalled < 0 || iOwner < 0 || iIdentity < 0 {
		return nil, fmt.Errorf("SHOW SEQUENCES: unexpected columns %v", res.Columns)
	}
	wanted := map[string]bool{}
	for _, t := range tables {
		wanted[dumpQuoteIdent(t)] = true
	}
	var out []dumpSequence
	for _, row := range res.Rows {
		var sq dumpSequence
		var ok1, ok2 bool
		sq.name, ok1 = row[iName].(string)
		sq.options, ok2 = row[iOpts].(string)
		sq.ownedBy, _ = row[iOwner].(string)
		sq.isCalled, _ = row[iCalled].(bool)
		sq.identity, _ = row[iIdentity].(bool)
		last, err := dumpInt(row[iLast])
		if !ok1 || !ok2 || err != nil {
			return nil, fmt.Errorf("SHOW SEQUENCES: malformed row %v", row)
		}
		sq.last = last
		if len(d.opts.Tables) > 0 {
			owner, _, _ := strings.Cut(sq.ownedBy, ".")
			if sq.ownedBy == "" || !wanted[owner] {
				continue
			}
		}
		out = append(out, sq)
	}
	return out, nil
}

// dumpInt reads an INT64 of a result (JSON numbers may arrive as float64,
// json.Number or int64 depending on the client's decoding).
func dumpInt(v any) (int64, error) {
	switch n := v.(type) {
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case float64:
		return int64(n), nil
	case fmt.Stringer:
		var x int64
		_, err := fmt.Sscan(n.String(), &x)
		return x, err
	case string:
		var x int64
		_, err := fmt.Sscan(n, &x)
		return x, err
	}
	return 0, fmt.Errorf("not an integer: %T", v)
}

// writeSequence writes verb (CREATE or ALTER) SEQUENCE with its options
// (schema) and the setval that continues it where the source was (data).
func (d *dumper) writeSequence(w *bufio.Writer, sq dumpSequence, verb string) {
	if !d.opts.DataOnly {
		fmt.Fprintf(w, "%s SEQUENCE %s %s;\n", verb, dumpQuoteIdent(sq.name), sq.options)
	}
	if !d.opts.SchemaOnly {
		// setval's argument reads names as PostgreSQL does: a name that
		// is not all lower case is double-quoted.
		arg := sq.name
		if dumpQuoteIdent(sq.name) != sq.name {
			arg = `"` + strings.ReplaceAll(sq.name, `"`, `""`) + `"`
		}
		fmt.Fprintf(w, "SELECT setval(%s, %d, %t);\n", dumpAppendString(nil, arg), sq.last, sq.isCalled)
	}
}
