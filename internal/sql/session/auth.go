package session

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/exec"
	"github.com/camusdb/camusdb-go/internal/sql/plan"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

type userKey struct{}

// WithUser returns ctx carrying the authenticated user a front-end serves.
// Statements run with ctx are checked against that user's privileges.
func WithUser(ctx context.Context, user string) context.Context {
	return context.WithValue(ctx, userKey{}, user)
}

// UserFrom returns the user ctx carries. A context without one (internal
// callers, and front-ends of a node that trusts its loopback clients)
// stands for root.
func UserFrom(ctx context.Context) string {
	if u, ok := ctx.Value(userKey{}).(string); ok && u != "" {
		return u
	}
	return privilege.RootUser
}

// stmtAuth is what checkStatement learned for afterStatement.
type stmtAuth struct {
	checker *privilege.Checker // nil for root
	// existed: the object a CREATE ... IF NOT EXISTS names was already
	// there, so the statement creates (and its user owns) nothing.
	existed bool
}

// checkStatement verifies user's privileges for stmt inside txn
// (CADB0021 when denied). Root skips the reads.
func checkStatement(ctx context.Context, txn catalog.Txn, user, database string, stmt ast.Statement) (stmtAuth, error) {
	if user == privilege.RootUser {
		return stmtAuth{}, nil
	}
	checker, err := privilege.NewChecker(ctx, txn, user)
	if err != nil {
		return stmtAuth{}, err
	}
	if err := checker.Check(ctx, database, privilege.Needs(stmt)); err != nil {
		return stmtAuth{}, err
	}
	a := stmtAuth{checker: checker}
	switch s := stmt.(type) {
	case *ast.CreateTable, *ast.CreateSequence:
		name := ""
		if ct, ok := s.(*ast.CreateTable); ok {
			name = ct.Name
		} else {
			name = s.(*ast.CreateSequence).Name
		}
		if db, err := catalog.GetDatabase(ctx, txn, database); err == nil {
			t, err := catalog.LookupTable(ctx, txn, db.ID, name)
			if err != nil {
				return stmtAuth{}, err
			}
			a.existed = t != nil
		}
	case *ast.CreateDatabase:
		_, err := catalog.GetDatabase(ctx, txn, s.Name)
		a.existed = err == nil
	}
	return a, nil
}

// afterStatement records the owner of a created object and hides from SHOW
// TABLES what the user may not see.
func afterStatement(ctx context.Context, txn catalog.Txn, a stmtAuth, database string, stmt ast.Statement, res *exec.Result) error {
	checker := a.checker
	if checker == nil {
		return nil
	}
	switch s := stmt.(type) {
	case *ast.CreateTable:
		if a.existed {
			return nil
		}
		db, t, err := createdRelation(ctx, txn, database, s.Name)
		if err != nil || t == nil {
			return err
		}
		// The creator owns the table and the sequences its columns own.
		tables, err := catalog.ListTables(ctx, txn, db.ID)
		if err != nil {
			return err
		}
		for _, seq := range append(catalog.OwnedSequences(tables, t, 0), t) {
			if err := privilege.Grant(ctx, txn, privilege.Object{DBID: db.ID, TableID: seq.ID}, checker.User(), privilege.PrivOwner); err != nil {
				return err
			}
		}
		return nil
	case *ast.CreateSequence:
		if a.existed {
			return nil
		}
		return ownCreated(ctx, txn, checker, database, s.Name)
	case *ast.CreateView:
		// The creator owns the view (a replaced view is a new object).
		return ownCreated(ctx, txn, checker, database, s.Name)
	case *ast.CreateDatabase:
		if a.existed {
			return nil
		}
		db, err := catalog.GetDatabase(ctx, txn, s.Name)
		if err != nil {
			return err
		}
		return privilege.Grant(ctx, txn, privilege.Object{DBID: db.ID}, checker.User(), privilege.PrivOwner)
	case *ast.Show:
		if res == nil || checker.Admin() {
			return nil
		}
		if s.What == "DATABASES" {
			return filterDatabases(ctx, txn, checker, res)
		}
		if s.What != "TABLES" {
			return nil
		}
		db, err := catalog.GetDatabase(ctx, txn, database)
		if err != nil {
			return err
		}
		visible := res.Rows[:0]
		for _, row := range res.Rows {
			t, err := catalog.LookupTable(ctx, txn, db.ID, row[0].Str)
			if err != nil {
				return err
			}
			if t == nil {
				continue
			}
			p, err := checker.TablePriv(ctx, db.ID, t.ID)
			if err != nil {
				return err
			}
			if p != 0 {
				visible = append(visible, row)
			}
		}
		res.Rows = visible
	}
	return nil
}

// createdRelation looks up the table, view or sequence name a statement
// just created in database (nil when there is none).
func createdRelation(ctx context.Context, txn catalog.Txn, database, name string) (*catalog.DatabaseDesc, *catalog.TableDesc, error) {
	db, err := catalog.GetDatabase(ctx, txn, database)
	if err != nil {
		return nil, nil, err
	}
	t, err := catalog.LookupTable(ctx, txn, db.ID, name)
	return db, t, err
}

// ownCreated makes the statement's user the owner of the relation name it
// just created.
func ownCreated(ctx context.Context, txn catalog.Txn, checker *privilege.Checker, database, name string) error {
	db, t, err := createdRelation(ctx, txn, database, name)
	if err != nil || t == nil {
		return err
	}
	return privilege.Grant(ctx, txn, privilege.Object{DBID: db.ID, TableID: t.ID}, checker.User(), privilege.PrivOwner)
}

// filterDatabases keeps in a SHOW DATABASES result the databases the user
// holds some privilege in.
func filterDatabases(ctx context.Context, txn catalog.Txn, checker *privilege.Checker, res *exec.Result) error {
	visible, all, err := checker.VisibleDatabases(ctx)
	if err != nil || all {
		return err
	}
	kept := res.Rows[:0]
	for _, row := range res.Rows {
		db, err := catalog.GetDatabase(ctx, txn, row[0].Str)
		if err != nil {
			continue // dropped meanwhile
		}
		if visible[db.ID] {
			kept = append(kept, row)
		}
	}
	res.Rows = kept
	return nil
}

// executeAuth runs the user, role and grant statements; handled=false for
// any other statement.
func (s *Server) executeAuth(ctx context.Context, req Request, stmt ast.Statement) (res *Result, handled bool, err error) {
	switch stmt.(type) {
	case *ast.CreateUser, *ast.AlterUser, *ast.DropUser, *ast.GrantRole, *ast.GrantPrivileges, *ast.ShowUsers, *ast.ShowGrants:
	default:
		return nil, false, nil
	}
	user := UserFrom(ctx)
	var out *exec.Result
	run := func(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
		checker, err := privilege.NewChecker(ctx, txn, user)
		if err != nil {
			return nil, err
		}
		r, err := runAuthStatement(ctx, txn, checker, req.Database, stmt)
		if err != nil {
			return nil, asStatementError(err)
		}
		return r, nil
	}
	out, err = s.run(ctx, req, run)
	if err != nil {
		return nil, true, err
	}
	if _, isShow := stmt.(*ast.ShowUsers); !isShow {
		if _, isShow := stmt.(*ast.ShowGrants); !isShow && s.cfg.OnUsersChanged != nil {
			s.cfg.OnUsersChanged()
		}
	}
	return convertResult(out, req.Database), true, nil
}

func requireAdmin(c *privilege.Checker) error {
	if !c.Admin() {
		return privilege.Denied(c.User(), "only admins manage users, roles and role membership")
	}
	return nil
}

func runAuthStatement(ctx context.Context, txn catalog.Txn, c *privilege.Checker, database string, stmt ast.Statement) (*exec.Result, error) {
	ddl := &exec.Result{Kind: exec.DDL}
	switch st := stmt.(type) {
	case *ast.CreateUser:
		if err := requireAdmin(c); err != nil {
			return nil, err
		}
		u := &privilege.User{Name: st.Name, Role: st.Role}
		if st.Password != nil {
			if st.Role {
				return nil, errcode.New(errcode.InvalidInput, "roles cannot have a password; create a user")
			}
			v, err := newVerifier(*st.Password)
			if err != nil {
				return nil, err
			}
			u.Verifier = v.String()
		}
		_, err := privilege.CreateUser(ctx, txn, u, st.IfNotExists)
		return ddl, err
	case *ast.AlterUser:
		if st.Name != c.User() {
			if err := requireAdmin(c); err != nil {
				return nil, err
			}
		}
		v, err := newVerifier(st.Password)
		if err != nil {
			return nil, err
		}
		return ddl, privilege.SetPassword(ctx, txn, st.Name, v)
	case *ast.DropUser:
		if err := requireAdmin(c); err != nil {
			return nil, err
		}
		if st.Name == c.User() {
			return nil, errcode.New(errcode.InvalidInput, "a user cannot drop itself")
		}
		_, err := privilege.DropUser(ctx, txn, st.Name, st.Role, st.IfExists)
		return ddl, err
	case *ast.GrantRole:
		if err := requireAdmin(c); err != nil {
			return nil, err
		}
		for _, role := range st.Roles {
			for _, member := range st.Members {
				var err error
				if st.Revoke {
					err = privilege.RevokeRole(ctx, txn, role, member)
				} else {
					err = privilege.GrantRole(ctx, txn, role, member)
				}
				if err != nil {
					return nil, err
				}
			}
		}
		return ddl, nil
	case *ast.GrantPrivileges:
		return ddl, grantPrivileges(ctx, txn, c, database, st)
	case *ast.ShowUsers:
		return showUsers(ctx, txn)
	case *ast.ShowGrants:
		return showGrants(ctx, txn, c, database, st)
	}
	return nil, errcode.New(errcode.Internal, "unhandled statement %T", stmt)
}

// newVerifier derives a SCRAM verifier; an empty password is refused. A
// password that is itself a SCRAM-SHA-256 verifier (as PostgreSQL prints
// them) is stored as given, so a password can be set without sending it.
func newVerifier(password string) (privilege.Verifier, error) {
	if password == "" {
		return privilege.Verifier{}, errcode.New(errcode.InvalidInput, "the password must not be empty")
	}
	if v, err := privilege.ParseVerifier(password); err == nil {
		return v, nil
	}
	v, err := privilege.NewVerifier(password)
	if err != nil {
		return privilege.Verifier{}, errcode.Wrap(errcode.Internal, err)
	}
	return v, nil
}

// grantPrivileges applies GRANT/REVOKE of object privileges. The caller
// must own each object (or be an admin).
func grantPrivileges(ctx context.Context, txn catalog.Txn, c *privilege.Checker, database string, st *ast.GrantPrivileges) error {
	var privs privilege.Priv
	for _, name := range st.Privileges {
		p, ok := privilege.ParsePriv(name, st.OnDatabase)
		if !ok {
			on := "a table"
			if st.OnDatabase {
				on = "a database"
			}
			return errcode.New(errcode.InvalidInput, "privilege %s does not apply to %s", name, on)
		}
		privs |= p
	}
	var objects []privilege.Object
	for _, name := range st.Objects {
		if st.OnDatabase {
			db, err := catalog.GetDatabase(ctx, txn, name)
			if err != nil {
				return err
			}
			have, err := c.DatabasePriv(ctx, db.ID)
			if err != nil {
				return err
			}
			if have&privilege.PrivOwner == 0 {
				return privilege.Denied(c.User(), "only the owner of database %q or an admin may grant on it", name)
			}
			objects = append(objects, privilege.Object{DBID: db.ID})
			continue
		}
		db, err := catalog.GetDatabase(ctx, txn, database)
		if err != nil {
			return err
		}
		t, err := catalog.GetTable(ctx, txn, db.ID, name)
		if err != nil {
			return err
		}
		have, err := c.TablePriv(ctx, db.ID, t.ID)
		if err != nil {
			return err
		}
		if have&privilege.PrivOwner == 0 {
			return privilege.Denied(c.User(), "only the owner of table %q or an admin may grant on it", name)
		}
		objects = append(objects, privilege.Object{DBID: db.ID, TableID: t.ID})
	}
	for _, o := range objects {
		for _, grantee := range st.Grantees {
			var err error
			if st.Revoke {
				err = privilege.Revoke(ctx, txn, o, grantee, privs)
			} else {
				err = privilege.Grant(ctx, txn, o, grantee, privs)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func stringCols(names ...string) []plan.Column {
	out := make([]plan.Column, len(names))
	for i, n := range names {
		out[i] = plan.Column{Name: n, Kind: types.String}
	}
	return out
}

// showUsers lists users and roles; verifiers are never shown.
func showUsers(ctx context.Context, txn catalog.Txn) (*exec.Result, error) {
	users, err := privilege.ListUsers(ctx, txn)
	if err != nil {
		return nil, err
	}
	res := &exec.Result{Kind: exec.Rows, Columns: stringCols("username", "options", "member_of")}
	for _, u := range users {
		var opts []string
		if u.Role {
			opts = append(opts, "NOLOGIN")
		}
		if u.Verifier != "" {
			opts = append(opts, "PASSWORD")
		}
		res.Rows = append(res.Rows, []types.Value{
			types.NewString(u.Name), types.NewString(strings.Join(opts, ", ")), types.NewString(strings.Join(u.MemberOf, ", ")),
		})
	}
	return res, nil
}

// showGrants lists the object grants of a user (default: the current
// one) and its roles; only admins may look at other users.
func showGrants(ctx context.Context, txn catalog.Txn, c *privilege.Checker, database string, st *ast.ShowGrants) (*exec.Result, error) {
	target := st.For
	if target == "" && (st.On == "" || !c.Admin()) {
		target = c.User() // non-admins see only their own grants
	}
	if target != c.User() && target != "" && !c.Admin() {
		return nil, privilege.Denied(c.User(), "only admins may show the grants of other users")
	}
	var principals []string // nil: every grantee (admins, SHOW GRANTS ON ...)
	if target != "" {
		var err error
		if principals, err = privilege.Principals(ctx, txn, target); err != nil {
			return nil, err
		}
	}
	var on *privilege.Object
	if st.On != "" {
		dbName := database
		if st.OnDatabase {
			dbName = st.On
		}
		db, err := catalog.GetDatabase(ctx, txn, dbName)
		if err != nil {
			return nil, err
		}
		on = &privilege.Object{DBID: db.ID}
		if !st.OnDatabase {
			t, err := catalog.GetTable(ctx, txn, db.ID, st.On)
			if err != nil {
				return nil, err
			}
			on.TableID = t.ID
		}
	}
	grants, err := privilege.ListGrants(ctx, txn)
	if err != nil {
		return nil, err
	}
	dbs, err := catalog.ListDatabases(ctx, txn)
	if err != nil {
		return nil, err
	}
	dbNames := map[uint32]string{}
	tableNames := map[privilege.Object]string{}
	for _, db := range dbs {
		dbNames[db.ID] = db.Name
		tables, err := catalog.ListTables(ctx, txn, db.ID)
		if err != nil {
			return nil, err
		}
		for _, t := range tables {
			tableNames[privilege.Object{DBID: db.ID, TableID: t.ID}] = t.Name
		}
	}
	res := &exec.Result{Kind: exec.Rows, Columns: stringCols("grantee", "database", "table", "privileges")}
	for _, g := range grants {
		if (principals != nil && !contains(principals, g.Grantee)) || (on != nil && g.Object != *on) {
			continue
		}
		dbName, ok := dbNames[g.Object.DBID]
		if !ok {
			continue // dropped
		}
		table := ""
		if !g.Object.IsDatabase() {
			if table, ok = tableNames[g.Object]; !ok {
				continue
			}
		}
		res.Rows = append(res.Rows, []types.Value{
			types.NewString(g.Grantee), types.NewString(dbName), types.NewString(table), types.NewString(g.Priv.String()),
		})
	}
	if principals != nil && on == nil && privilege.IsAdmin(principals) {
		res.Rows = append(res.Rows, []types.Value{types.NewString(target), types.NewString("*"), types.NewString("*"), types.NewString("ALL (admin)")})
	}
	sort.SliceStable(res.Rows, func(i, j int) bool {
		return fmt.Sprint(res.Rows[i][1].Str, "\x00", res.Rows[i][2].Str) < fmt.Sprint(res.Rows[j][1].Str, "\x00", res.Rows[j][2].Str)
	})
	return res, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
