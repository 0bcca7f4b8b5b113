package ast

import "strings"

// Statements about users, roles and privileges. They are executed by the
// session layer (package privilege), not by the planner.

// CreateUser is CREATE USER|ROLE [IF NOT EXISTS] name [[WITH] PASSWORD 'pw'].
type CreateUser struct {
	At          Pos
	Name        string
	Role        bool
	IfNotExists bool
	// Password is nil when absent. It is a secret: never log the statement.
	Password *string
}

// AlterUser is ALTER USER name [WITH] PASSWORD 'pw'.
type AlterUser struct {
	At       Pos
	Name     string
	Password string
}

// DropUser is DROP USER|ROLE [IF EXISTS] name.
type DropUser struct {
	At       Pos
	Name     string
	Role     bool
	IfExists bool
}

// GrantRole is GRANT role[, ...] TO member[, ...] (Revoke: REVOKE role[,
// ...] FROM member[, ...]).
type GrantRole struct {
	At      Pos
	Revoke  bool
	Roles   []string
	Members []string
}

// GrantPrivileges is GRANT priv[, ...] ON [TABLE] t[, ...] TO grantee[, ...]
// or GRANT priv[, ...] ON DATABASE d[, ...] TO grantee[, ...] (Revoke: REVOKE
// ... FROM ...). Privileges are upper case: SELECT, INSERT, UPDATE, DELETE,
// CREATE or ALL.
type GrantPrivileges struct {
	At         Pos
	Revoke     bool
	Privileges []string
	OnDatabase bool
	Objects    []string
	Grantees   []string
}

// ShowUsers is SHOW USERS (also SHOW ROLES).
type ShowUsers struct{ At Pos }

// ShowGrants is SHOW GRANTS [ON [TABLE] t | ON DATABASE d] [FOR name].
// Without ON and FOR it shows the current user's grants; On names the
// object ("" = every object).
type ShowGrants struct {
	At         Pos
	On         string
	OnDatabase bool
	For        string
}

func (n *CreateUser) Position() Pos      { return n.At }
func (n *AlterUser) Position() Pos       { return n.At }
func (n *DropUser) Position() Pos        { return n.At }
func (n *GrantRole) Position() Pos       { return n.At }
func (n *GrantPrivileges) Position() Pos { return n.At }
func (n *ShowUsers) Position() Pos       { return n.At }
func (n *ShowGrants) Position() Pos      { return n.At }

func (*CreateUser) stmt()      {}
func (*AlterUser) stmt()       {}
func (*DropUser) stmt()        {}
func (*GrantRole) stmt()       {}
func (*GrantPrivileges) stmt() {}
func (*ShowUsers) stmt()       {}
func (*ShowGrants) stmt()      {}

// HasSecret reports whether stmt carries a password, so its text must not
// be cached, logged or echoed.
func HasSecret(stmt Statement) bool {
	switch s := stmt.(type) {
	case *CreateUser:
		return s.Password != nil
	case *AlterUser:
		return true
	}
	return false
}

// authStatement formats the statements of this file; false when s is not
// one of them.
func (f *formatter) authStatement(s Statement) bool {
	kind := func(role bool) string {
		if role {
			return "ROLE "
		}
		return "USER "
	}
	list := func(names []string) {
		for i, n := range names {
			if i > 0 {
				f.WriteString(", ")
			}
			f.ident(n)
		}
	}
	switch s := s.(type) {
	case *CreateUser:
		f.WriteString("CREATE ")
		f.WriteString(kind(s.Role))
		if s.IfNotExists {
			f.WriteString("IF NOT EXISTS ")
		}
		f.ident(s.Name)
		if s.Password != nil {
			f.WriteString(" WITH PASSWORD ")
			f.quoteString(*s.Password)
		}
	case *AlterUser:
		f.WriteString("ALTER USER ")
		f.ident(s.Name)
		f.WriteString(" WITH PASSWORD ")
		f.quoteString(s.Password)
	case *DropUser:
		f.WriteString("DROP ")
		f.WriteString(kind(s.Role))
		if s.IfExists {
			f.WriteString("IF EXISTS ")
		}
		f.ident(s.Name)
	case *GrantRole:
		if s.Revoke {
			f.WriteString("REVOKE ")
		} else {
			f.WriteString("GRANT ")
		}
		list(s.Roles)
		if s.Revoke {
			f.WriteString(" FROM ")
		} else {
			f.WriteString(" TO ")
		}
		list(s.Members)
	case *GrantPrivileges:
		if s.Revoke {
			f.WriteString("REVOKE ")
		} else {
			f.WriteString("GRANT ")
		}
		f.WriteString(strings.Join(s.Privileges, ", "))
		if s.OnDatabase {
			f.WriteString(" ON DATABASE ")
		} else {
			f.WriteString(" ON TABLE ")
		}
		list(s.Objects)
		if s.Revoke {
			f.WriteString(" FROM ")
		} else {
			f.WriteString(" TO ")
		}
		list(s.Grantees)
	case *ShowUsers:
		f.WriteString("SHOW USERS")
	case *ShowGrants:
		f.WriteString("SHOW GRANTS")
		if s.On != "" {
			if s.OnDatabase {
				f.WriteString(" ON DATABASE ")
			} else {
				f.WriteString(" ON TABLE ")
			}
			f.ident(s.On)
		}
		if s.For != "" {
			f.WriteString(" FOR ")
			f.ident(s.For)
		}
	default:
		return false
	}
	return true
}
