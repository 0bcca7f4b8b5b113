package pgwire

import (
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
	"github.com/camusdb/camusdb-go/internal/sql/session"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// prepared is a statement created by Parse.
type prepared struct {
	sql       string // one statement; "" for an empty query
	kw        []string
	paramOIDs []uint32 // one per $n; 0 = unspecified
	// rows: the statement returns rows (a query, SHOW, ... RETURNING).
	rows bool
}

// portal is a statement bound to parameters by Bind.
type portal struct {
	stmt          *prepared
	params        *paramSet
	resultFormats []int16

	executed bool
	out      outcome
	// sent is how many result rows Execute has sent so far.
	sent int
}

func (c *conn) parse(m *pgproto3.Parse) error {
	if c.stmts == nil {
		c.stmts = map[string]*prepared{}
	}
	if _, exists := c.stmts[m.Name]; exists && m.Name != "" {
		return &wireError{state: "42P05", err: errcode.New(errcode.InvalidInput, "prepared statement %q already exists", m.Name)}
	}
	stmts := parser.SplitStatementsWith(m.Query, c.parseOptions())
	if len(stmts) > 1 {
		return &wireError{state: "42601", err: errcode.New(errcode.SyntaxError, "cannot insert multiple commands into a prepared statement")}
	}
	p := &prepared{}
	if len(stmts) == 1 {
		p.sql = stmts[0]
		p.kw = leadingKeywords(p.sql, 3)
		p.rows = producesRows(p.kw) || hasReturning(p.sql, c.parseOptions())
	}
	n, err := countParams(p.sql, c.parseOptions())
	if err != nil {
		return err
	}
	if len(m.ParameterOIDs) > maxParams {
		return protocolError("too many parameter types")
	}
	p.paramOIDs = make([]uint32, max(n, len(m.ParameterOIDs)))
	copy(p.paramOIDs, m.ParameterOIDs)
	c.stmts[m.Name] = p
	c.be.Send(&pgproto3.ParseComplete{})
	return nil
}

func (c *conn) bind(m *pgproto3.Bind) error {
	stmt := c.stmts[m.PreparedStatement]
	if stmt == nil {
		return &wireError{state: "26000", err: errcode.New(errcode.InvalidInput, "prepared statement %q does not exist", m.PreparedStatement)}
	}
	if c.portals == nil {
		c.portals = map[string]*portal{}
	}
	if _, exists := c.portals[m.DestinationPortal]; exists {
		if m.DestinationPortal != "" {
			return &wireError{state: "42P03", err: errcode.New(errcode.InvalidInput, "portal %q already exists", m.DestinationPortal)}
		}
		c.dropPortal("")
	}
	for _, f := range m.ResultFormatCodes {
		if f != formatText && f != formatBinary {
			return protocolError("unsupported result format code %d", f)
		}
	}
	// The unnamed portal is rebound for every statement a driver runs:
	// its predecessor's parameter map and formats are reused.
	p := c.takeSparePortal()
	params, err := decodeParamsInto(p.params, stmt.paramOIDs, m.ParameterFormatCodes, m.Parameters)
	if err != nil {
		c.sparePortal = p
		return err
	}
	*p = portal{
		stmt:   stmt,
		params: params,
		// Bind's slices are only valid until the next message.
		resultFormats: append(p.resultFormats[:0], m.ResultFormatCodes...),
	}
	c.portals[m.DestinationPortal] = p
	c.be.Send(&pgproto3.BindComplete{})
	return nil
}

// takeSparePortal returns a portal to fill: the one a dropped unnamed
// portal left (dropPortal), or a new one.
func (c *conn) takeSparePortal() *portal {
	if p := c.sparePortal; p != nil {
		c.sparePortal = nil
		return p
	}
	return &portal{}
}

// dropPortal forgets the portal name; nothing refers to it afterwards, so
// its parameters and formats are kept for the next Bind.
func (c *conn) dropPortal(name string) {
	p := c.portals[name]
	if p == nil {
		return
	}
	delete(c.portals, name)
	if c.sparePortal == nil {
		*p = portal{params: p.params, resultFormats: p.resultFormats[:0]}
		c.sparePortal = p
	}
}

// dropPortals forgets every portal (end of an implicit or explicit
// transaction, DISCARD ALL).
func (c *conn) dropPortals() {
	if len(c.portals) == 1 {
		for name := range c.portals {
			c.dropPortal(name)
		}
		return
	}
	clear(c.portals)
}

func (c *conn) describe(m *pgproto3.Describe) error {
	switch m.ObjectType {
	case 'S':
		stmt := c.stmts[m.Name]
		if stmt == nil {
			return &wireError{state: "26000", err: errcode.New(errcode.InvalidInput, "prepared statement %q does not exist", m.Name)}
		}
		c.be.Send(&pgproto3.ParameterDescription{ParameterOIDs: stmt.paramOIDs})
		// A query is planned (not run) with NULL parameters for its
		// columns; drivers (pgx's CopyFrom) read them. Anything else, or a
		// query that cannot be planned so, answers NoData: the result shape
		// then comes with Describe of the portal.
		if cols := c.describeQuery(stmt); cols != nil {
			c.be.Send(c.rowDescription(cols, nil))
			return nil
		}
		c.be.Send(&pgproto3.NoData{})
		return nil
	case 'P':
		p := c.portals[m.Name]
		if p == nil {
			return &wireError{state: "34000", err: errcode.New(errcode.InvalidInput, "portal %q does not exist", m.Name)}
		}
		if !p.stmt.rows {
			c.be.Send(&pgproto3.NoData{})
			return nil
		}
		if err := c.runPortal(p); err != nil {
			return err
		}
		if p.out.rows == nil {
			c.be.Send(&pgproto3.NoData{})
			return nil
		}
		if err := checkFormats(p.resultFormats, len(p.out.rows.Columns)); err != nil {
			return err
		}
		c.be.Send(c.rowDescription(p.out.rows.Columns, p.resultFormats))
		return nil
	}
	return protocolError("invalid Describe object type %q", m.ObjectType)
}

func checkFormats(formats []int16, columns int) error {
	if len(formats) > 1 && len(formats) != columns {
		return protocolError("bind message has %d result formats but query has %d columns", len(formats), columns)
	}
	return nil
}

// runPortal executes p's statement once.
func (c *conn) runPortal(p *portal) error {
	if p.executed {
		return nil
	}
	out, err := c.runStatement(p.stmt.sql, p.params, p.stmt.kw)
	if err != nil {
		return err
	}
	p.executed, p.out = true, out
	return nil
}

func (c *conn) executePortal(m *pgproto3.Execute) error {
	p := c.portals[m.Portal]
	if p == nil {
		return &wireError{state: "34000", err: errcode.New(errcode.InvalidInput, "portal %q does not exist", m.Portal)}
	}
	if p.stmt.sql == "" {
		c.be.Send(&pgproto3.EmptyQueryResponse{})
		return nil
	}
	if err := c.runPortal(p); err != nil {
		return err
	}
	res := p.out.rows
	if res == nil {
		c.sendCommandComplete(p.out.tag)
		return nil
	}
	if err := checkFormats(p.resultFormats, len(res.Columns)); err != nil {
		return err
	}
	from := p.sent
	to := len(res.Rows)
	if m.MaxRows > 0 && uint64(to-from) > uint64(m.MaxRows) {
		to = from + int(m.MaxRows)
	}
	if err := c.sendRows(res, p.resultFormats, from, to); err != nil {
		return err
	}
	p.sent = to
	if to < len(res.Rows) {
		c.be.Send(&pgproto3.PortalSuspended{})
		return nil
	}
	tag := p.out.tag
	if from > 0 || m.MaxRows > 0 {
		tag = selectTag(to - from)
	}
	c.sendCommandComplete(tag)
	return nil
}

func (c *conn) closeObject(m *pgproto3.Close) {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		c.dropPortal(m.Name)
	default:
		c.extended(protocolError("invalid Close object type %q", m.ObjectType))
		return
	}
	c.be.Send(&pgproto3.CloseComplete{})
}

// describeQuery plans a SELECT (or WITH/VALUES) statement with NULL
// parameters and returns its columns; nil when it is not a query or
// cannot be planned so.
func (c *conn) describeQuery(stmt *prepared) []session.Column {
	if len(stmt.kw) == 0 || !stmt.rows {
		return nil
	}
	switch stmt.kw[0] {
	case "select", "with", "values":
	default:
		return nil
	}
	params := &paramSet{values: make(map[string]types.Value, len(stmt.paramOIDs))}
	for i := range stmt.paramOIDs {
		params.values[strconv.Itoa(i+1)] = types.NullValue
	}
	res, err := c.executeWith(stmt.sql, params, func(req *session.Request) { req.DescribeOnly = true })
	if err != nil || res == nil || len(res.Columns) == 0 {
		return nil
	}
	// pgx then trusts these types for the results: a column whose type is
	// only known per value (it depends on a parameter) answers NoData.
	for _, col := range res.Columns {
		if col.Type == types.Null {
			return nil
		}
	}
	return res.Columns
}
