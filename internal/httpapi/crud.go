package httpapi

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// The record endpoints build one SQL statement from their JSON and run it
// like /execute-sql-*. Values always travel as parameters @v<i> (SET and
// VALUES) and @f<i> (filters); names are validated and back-quoted.

type createTableColumn struct {
	Name         string     `json:"name"`
	Type         string     `json:"type"`
	NotNull      bool       `json:"notNull"`
	DefaultValue *wireValue `json:"defaultValue"`
	// Primary and Unique are CamusDB extensions: the primary key is made of
	// the columns marked primary, in order; unique adds a UNIQUE constraint.
	Primary bool `json:"primary"`
	Unique  bool `json:"unique"`
}

type createTableRequest struct {
	DatabaseName string              `json:"databaseName"`
	TableName    string              `json:"tableName"`
	IfNotExists  bool                `json:"ifNotExists"`
	Columns      []createTableColumn `json:"columns"`
}

// createTableSQL builds CREATE TABLE from the request.
func createTableSQL(req *createTableRequest) (string, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return "", err
	}
	if len(req.Columns) == 0 {
		return "", errcode.New(errcode.InvalidInput, "columns must list at least one column")
	}
	var b strings.Builder
	b.WriteString("CREATE TABLE ")
	if req.IfNotExists {
		b.WriteString("IF NOT EXISTS ")
	}
	b.WriteString(table)
	b.WriteString(" (")
	var primary []string
	for i, col := range req.Columns {
		name, err := quoteIdent("column name", col.Name)
		if err != nil {
			return "", err
		}
		typ, err := columnType(col.Name, col.Type)
		if err != nil {
			return "", err
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteByte(' ')
		b.WriteString(typ.String())
		if col.NotNull {
			b.WriteString(" NOT NULL")
		}
		if col.Unique {
			b.WriteString(" UNIQUE")
		}
		if col.DefaultValue != nil {
			lit, err := sqlLiteral(col.DefaultValue.Value)
			if err != nil {
				return "", err
			}
			b.WriteString(" DEFAULT (")
			b.WriteString(lit)
			b.WriteByte(')')
		}
		if col.Primary {
			primary = append(primary, name)
		}
	}
	if len(primary) > 0 {
		b.WriteString(", PRIMARY KEY (")
		b.WriteString(strings.Join(primary, ", "))
		b.WriteByte(')')
	}
	b.WriteByte(')')
	return b.String(), nil
}

func (s *Server) handleCreateTable(w http.ResponseWriter, r *http.Request) error {
	var req createTableRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	sql, err := createTableSQL(&req)
	if err != nil {
		return err
	}
	if _, err := s.exec.Execute(r.Context(), session.Request{Database: req.DatabaseName, SQL: sql}); err != nil {
		return err
	}
	writeOK(w)
	return nil
}

type filter struct {
	ColumnName string    `json:"columnName"`
	Op         string    `json:"op"`
	Value      wireValue `json:"value"`
}

type orderBy struct {
	ColumnName string `json:"columnName"`
	Type       int    `json:"type"` // 0 ascending, 1 descending
}

type recordRequest struct {
	DatabaseName string               `json:"databaseName"`
	TableName    string               `json:"tableName"`
	Values       map[string]wireValue `json:"values"`
	Filters      []filter             `json:"filters"`
	OrderBy      []orderBy            `json:"orderBy"`
	ID           *wireValue           `json:"id"`
	RowFormat    string               `json:"rowFormat"`
	txnFields
}

// stmtBuilder accumulates SQL text and its parameters.
type stmtBuilder struct {
	sql    strings.Builder
	params map[string]types.Value
}

func (sb *stmtBuilder) param(prefix string, v types.Value) {
	if sb.params == nil {
		sb.params = make(map[string]types.Value)
	}
	name := prefix + strconv.Itoa(len(sb.params))
	sb.params[name] = v
	sb.sql.WriteByte('@')
	sb.sql.WriteString(name)
}

// filterOps maps accepted operators (case-insensitive) to SQL.
var filterOps = map[string]string{
	"=": "=", "==": "=", "!=": "!=", "<>": "!=",
	"<": "<", ">": ">", "<=": "<=", ">=": ">=",
	"like": "LIKE", "not like": "NOT LIKE", "ilike": "ILIKE", "not ilike": "NOT ILIKE",
}

// where appends " WHERE f1 AND f2 ..." (nothing for no filters). A NULL
// value with = or != becomes IS [NOT] NULL, which is what a client asking
// for "column equals null" means.
func (sb *stmtBuilder) where(filters []filter) error {
	for i, f := range filters {
		col, err := quoteIdent("filter columnName", f.ColumnName)
		if err != nil {
			return err
		}
		op, ok := filterOps[strings.ToLower(strings.TrimSpace(f.Op))]
		if !ok {
			return errcode.New(errcode.InvalidInput, "filter on %s: unsupported op %q", f.ColumnName, f.Op)
		}
		if i == 0 {
			sb.sql.WriteString(" WHERE ")
		} else {
			sb.sql.WriteString(" AND ")
		}
		sb.sql.WriteString(col)
		if f.Value.IsNull() && (op == "=" || op == "!=") {
			if op == "=" {
				sb.sql.WriteString(" IS NULL")
			} else {
				sb.sql.WriteString(" IS NOT NULL")
			}
			continue
		}
		sb.sql.WriteByte(' ')
		sb.sql.WriteString(op)
		sb.sql.WriteByte(' ')
		sb.param("f", f.Value.Value)
	}
	return nil
}

// sortedColumns returns the value names in a stable order, so the same
// request always builds the same SQL (and hits the statement cache).
func sortedColumns(values map[string]wireValue) []string {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

func insertSQL(req *recordRequest) (*stmtBuilder, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return nil, err
	}
	if len(req.Values) == 0 {
		return nil, errcode.New(errcode.InvalidInput, "values must name at least one column")
	}
	sb := &stmtBuilder{}
	names := sortedColumns(req.Values)
	sb.sql.WriteString("INSERT INTO ")
	sb.sql.WriteString(table)
	sb.sql.WriteString(" (")
	for i, name := range names {
		col, err := quoteIdent("column name", name)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			sb.sql.WriteString(", ")
		}
		sb.sql.WriteString(col)
	}
	sb.sql.WriteString(") VALUES (")
	for i, name := range names {
		if i > 0 {
			sb.sql.WriteString(", ")
		}
		sb.param("v", req.Values[name].Value)
	}
	sb.sql.WriteByte(')')
	return sb, nil
}

func selectSQL(req *recordRequest) (*stmtBuilder, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return nil, err
	}
	sb := &stmtBuilder{}
	sb.sql.WriteString("SELECT * FROM ")
	sb.sql.WriteString(table)
	if err := sb.where(req.Filters); err != nil {
		return nil, err
	}
	for i, ob := range req.OrderBy {
		col, err := quoteIdent("orderBy columnName", ob.ColumnName)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			sb.sql.WriteString(" ORDER BY ")
		} else {
			sb.sql.WriteString(", ")
		}
		sb.sql.WriteString(col)
		switch ob.Type {
		case 0:
			sb.sql.WriteString(" ASC")
		case 1:
			sb.sql.WriteString(" DESC")
		default:
			return nil, errcode.New(errcode.InvalidInput, "orderBy on %s: type must be 0 (asc) or 1 (desc), got %d", ob.ColumnName, ob.Type)
		}
	}
	return sb, nil
}

// queryByIDSQL selects the row whose `id` column equals the request's id. A
// string id of 24 lower-case hex characters is taken as an object id (the
// CamusDB convention for the id column); any other value is used as given.
func queryByIDSQL(req *recordRequest) (*stmtBuilder, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return nil, err
	}
	if req.ID == nil || req.ID.IsNull() {
		return nil, errcode.New(errcode.InvalidInput, "id is required")
	}
	id := req.ID.Value
	if id.Kind == types.String {
		if oid, err := types.ParseOID(id.Str); err == nil {
			id = oid
		}
	}
	sb := &stmtBuilder{}
	sb.sql.WriteString("SELECT * FROM ")
	sb.sql.WriteString(table)
	sb.sql.WriteString(" WHERE `id` = ")
	sb.param("f", id)
	return sb, nil
}

func updateSQL(req *recordRequest) (*stmtBuilder, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return nil, err
	}
	if len(req.Values) == 0 {
		return nil, errcode.New(errcode.InvalidInput, "values must name at least one column")
	}
	if len(req.Filters) == 0 {
		return nil, errcode.New(errcode.InvalidInput, "filters are required: an update must say which rows it changes")
	}
	sb := &stmtBuilder{}
	sb.sql.WriteString("UPDATE ")
	sb.sql.WriteString(table)
	sb.sql.WriteString(" SET ")
	for i, name := range sortedColumns(req.Values) {
		col, err := quoteIdent("column name", name)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			sb.sql.WriteString(", ")
		}
		sb.sql.WriteString(col)
		sb.sql.WriteString(" = ")
		sb.param("v", req.Values[name].Value)
	}
	if err := sb.where(req.Filters); err != nil {
		return nil, err
	}
	return sb, nil
}

func deleteSQL(req *recordRequest) (*stmtBuilder, error) {
	table, err := quoteIdent("tableName", req.TableName)
	if err != nil {
		return nil, err
	}
	if len(req.Filters) == 0 {
		return nil, errcode.New(errcode.InvalidInput, "filters are required: a delete must say which rows it removes")
	}
	sb := &stmtBuilder{}
	sb.sql.WriteString("DELETE FROM ")
	sb.sql.WriteString(table)
	if err := sb.where(req.Filters); err != nil {
		return nil, err
	}
	return sb, nil
}

// runRecord decodes a record request, builds its statement and executes it.
// It also returns the validated row format for the query endpoints.
func (s *Server) runRecord(w http.ResponseWriter, r *http.Request, build func(*recordRequest) (*stmtBuilder, error)) (*session.Result, string, error) {
	var req recordRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return nil, "", err
	}
	format, err := checkRowFormat(req.RowFormat)
	if err != nil {
		return nil, "", err
	}
	txn, err := req.handle()
	if err != nil {
		return nil, "", err
	}
	sb, err := build(&req)
	if err != nil {
		return nil, "", err
	}
	res, err := s.exec.Execute(r.Context(), session.Request{
		Database: req.DatabaseName, SQL: sb.sql.String(), Params: sb.params, Txn: txn,
	})
	if err != nil {
		return nil, "", err
	}
	return res, format, nil
}

func (s *Server) recordQuery(w http.ResponseWriter, r *http.Request, build func(*recordRequest) (*stmtBuilder, error)) error {
	res, format, err := s.runRecord(w, r, build)
	if err != nil {
		return err
	}
	return s.writeQueryResult(w, res, format)
}

func (s *Server) recordWrite(w http.ResponseWriter, r *http.Request, build func(*recordRequest) (*stmtBuilder, error)) error {
	res, _, err := s.runRecord(w, r, build)
	if err != nil {
		return err
	}
	return writeAffected(w, res)
}

func (s *Server) handleInsert(w http.ResponseWriter, r *http.Request) error {
	return s.recordWrite(w, r, insertSQL)
}

func (s *Server) handleQuery(w http.ResponseWriter, r *http.Request) error {
	return s.recordQuery(w, r, selectSQL)
}

func (s *Server) handleQueryByID(w http.ResponseWriter, r *http.Request) error {
	return s.recordQuery(w, r, queryByIDSQL)
}

func (s *Server) handleUpdate(w http.ResponseWriter, r *http.Request) error {
	return s.recordWrite(w, r, updateSQL)
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) error {
	return s.recordWrite(w, r, deleteSQL)
}

// columnType reads a column type name with an optional (n) length or
// (p[,s]) precision, as DDL does: VARCHAR(20), CHAR(3), NUMERIC(10,2),
// INTEGER, BYTEA...
func columnType(column, text string) (types.T, error) {
	unknown := errcode.New(errcode.UnknownType, "column %s: unknown type %q", column, text)
	name, args, hasArgs := strings.Cut(text, "(")
	name = strings.ToLower(strings.TrimSpace(name))
	typ, ok := types.ParseType(name)
	if !ok {
		return typ, unknown
	}
	if !hasArgs {
		return typ, nil
	}
	digits, ok := strings.CutSuffix(strings.TrimSpace(args), ")")
	if ok && typ.Kind == types.Numeric {
		ps, ss, hasScale := strings.Cut(digits, ",")
		p, err1 := strconv.ParseInt(strings.TrimSpace(ps), 10, 64)
		sc, err2 := int64(0), error(nil)
		if hasScale {
			sc, err2 = strconv.ParseInt(strings.TrimSpace(ss), 10, 64)
		}
		if err1 != nil || err2 != nil {
			return typ, unknown
		}
		return typ.WithPrecision(p, sc)
	}
	n, err := strconv.ParseInt(strings.TrimSpace(digits), 10, 64)
	if !ok || err != nil || (name != "varchar" && name != "char" && name != "character") {
		return typ, unknown
	}
	return typ.WithLength(n, name != "varchar")
}
