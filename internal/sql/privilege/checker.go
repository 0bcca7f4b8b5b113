package privilege

import (
	"context"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Checker answers privilege questions for one user inside one
// transaction. It is not safe for concurrent use.
type Checker struct {
	kv         catalog.KV
	user       string
	principals []string
	admin      bool
}

// NewChecker resolves user's roles (transitively) in kv.
func NewChecker(ctx context.Context, kv catalog.KV, user string) (*Checker, error) {
	principals, err := Principals(ctx, kv, user)
	if err != nil {
		return nil, err
	}
	return &Checker{kv: kv, user: user, principals: principals, admin: IsAdmin(principals)}, nil
}

// User is the user the checker answers for.
func (c *Checker) User() string { return c.user }

// VisibleDatabases returns the ids of the databases on which the user, or
// one of its roles, holds some privilege (on the database or a table of
// it); nil with all=true for admins.
func (c *Checker) VisibleDatabases(ctx context.Context) (ids map[uint32]bool, all bool, err error) {
	if c.admin {
		return nil, true, nil
	}
	grants, err := ListGrants(ctx, c.kv)
	if err != nil {
		return nil, false, err
	}
	ids = map[uint32]bool{}
	for _, g := range grants {
		for _, p := range c.principals {
			if g.Grantee == p && g.Priv != 0 {
				ids[g.Object.DBID] = true
			}
		}
	}
	return ids, false, nil
}

// Admin reports whether the user is root or a member of admin.
func (c *Checker) Admin() bool { return c.admin }

// DatabasePriv returns the user's privileges on a database (all for
// admins; PrivOwner implies PrivCreate).
func (c *Checker) DatabasePriv(ctx context.Context, dbID uint32) (Priv, error) {
	if c.admin {
		return PrivOwner | PrivAllDatabase, nil
	}
	p, err := Effective(ctx, c.kv, c.principals, Object{DBID: dbID})
	if p&PrivOwner != 0 {
		p |= PrivAllDatabase
	}
	return p, err
}

// TablePriv returns the user's privileges on a table: its grants, all of
// them for the table's owner, the database's owner and admins.
func (c *Checker) TablePriv(ctx context.Context, dbID, tableID uint32) (Priv, error) {
	if c.admin {
		return PrivOwner | PrivAllTable, nil
	}
	dbPriv, err := c.DatabasePriv(ctx, dbID)
	if err != nil {
		return 0, err
	}
	if dbPriv&PrivOwner != 0 {
		return PrivOwner | PrivAllTable, nil
	}
	p, err := Effective(ctx, c.kv, c.principals, Object{DBID: dbID, TableID: tableID})
	if p&PrivOwner != 0 {
		p |= PrivAllTable
	}
	return p, err
}

// Denied builds the permission-denied error (CADB0021).
func Denied(user string, format string, args ...any) error {
	e := errcode.New(errcode.PermissionDenied, format, args...)
	e.Message = "permission denied for user " + quote(user) + ": " + e.Message
	return e
}

func quote(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\"\"") + "\"" }

// Check verifies needs for a statement running in database (the current
// database, "" when none). Objects that do not exist are skipped: the
// statement then fails with its own unknown-object error.
func (c *Checker) Check(ctx context.Context, database string, needs []Need) error {
	if c.admin {
		return nil
	}
	for _, n := range needs {
		if n.Admin {
			return Denied(c.user, "this statement is reserved to admins")
		}
		dbName := n.Database
		if dbName == "" {
			dbName = database
		}
		if dbName == "" {
			continue
		}
		db, err := catalog.GetDatabase(ctx, c.kv, dbName)
		if errcode.Of(err) == errcode.UnknownDatabase {
			continue
		}
		if err != nil {
			return err
		}
		if n.Table == "" {
			have, err := c.DatabasePriv(ctx, db.ID)
			if err != nil {
				return err
			}
			if have&n.Priv != n.Priv {
				return Denied(c.user, "%s on database %q is required", (n.Priv &^ have).String(), dbName)
			}
			continue
		}
		t, err := catalog.LookupTable(ctx, c.kv, db.ID, n.Table)
		if err != nil || t == nil {
			if err != nil {
				return err
			}
			continue
		}
		have, err := c.TablePriv(ctx, db.ID, t.ID)
		if err != nil {
			return err
		}
		switch {
		case n.Any && have == 0:
			return Denied(c.user, "no privilege on table %q", n.Table)
		case have&n.Priv != n.Priv:
			return Denied(c.user, "%s on table %q is required", (n.Priv &^ have).String(), n.Table)
		}
	}
	return nil
}
