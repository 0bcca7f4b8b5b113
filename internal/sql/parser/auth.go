package parser

import (
	"github.com/camusdb/camusdb-go/internal/sql/ast"
)

// The statements about users, roles and privileges. Their words (USER,
// ROLE, GRANT, PASSWORD...) are matched as plain words, not keywords, so
// they stay usable as identifiers everywhere else.

// isWord reports whether the next token is the unquoted word w (lower case).
func (p *parser) isWord(w string) bool {
	t := p.peek()
	return t.kind == tkIdent && !t.quoted && t.str == w
}

func (p *parser) acceptWord(w string) bool {
	if p.isWord(w) {
		p.pos++
		return true
	}
	return false
}

func (p *parser) expectWord(w string) error {
	if !p.acceptWord(w) {
		return p.errExpected(upper(w))
	}
	return nil
}

// isUserOrRole is the USER / ROLE word after CREATE, ALTER or DROP.
func (p *parser) isUserOrRole() bool { return p.isWord("user") || p.isWord("role") }

// parseGrantOrRevoke parses GRANT/REVOKE (the first token is the word).
func (p *parser) parseGrantOrRevoke() (ast.Statement, error) {
	start := p.next()
	revoke := start.str == "revoke"
	toWord := "to"
	if revoke {
		toWord = "from"
	}
	if p.startsPrivilege() {
		stmt := &ast.GrantPrivileges{At: start.at(), Revoke: revoke}
		for {
			t := p.next()
			name := upper(t.str)
			if name == "ALL" {
				p.acceptWord("privileges")
			}
			stmt.Privileges = append(stmt.Privileges, name)
			if !p.accept(tkComma) {
				break
			}
			if !p.startsPrivilege() {
				return nil, p.errExpected("SELECT, INSERT, UPDATE, DELETE, CREATE or ALL")
			}
		}
		if _, err := p.expectKw(kwOn); err != nil {
			return nil, err
		}
		what := "table name"
		switch {
		case p.acceptKw(kwDatabase):
			stmt.OnDatabase, what = true, "database name"
		case p.acceptKw(kwTable):
		}
		var err error
		if stmt.Objects, err = p.identList(what); err != nil {
			return nil, err
		}
		if err := p.expectWord(toWord); err != nil {
			return nil, err
		}
		if stmt.Grantees, err = p.identList("user or role name"); err != nil {
			return nil, err
		}
		return stmt, nil
	}
	stmt := &ast.GrantRole{At: start.at(), Revoke: revoke}
	var err error
	if stmt.Roles, err = p.identList("role name or privilege"); err != nil {
		return nil, err
	}
	if err := p.expectWord(toWord); err != nil {
		return nil, err
	}
	if stmt.Members, err = p.identList("user or role name"); err != nil {
		return nil, err
	}
	return stmt, nil
}

// startsPrivilege reports whether the next token names a privilege.
func (p *parser) startsPrivilege() bool {
	t := p.peek()
	if t.kind != tkIdent || t.quoted {
		return false
	}
	switch t.str {
	case "select", "insert", "update", "delete", "create", "all":
		return true
	}
	return false
}

func (p *parser) identList(what string) ([]string, error) {
	var out []string
	for {
		name, err := p.ident(what)
		if err != nil {
			return nil, err
		}
		out = append(out, name)
		if !p.accept(tkComma) {
			return out, nil
		}
	}
}

// parsePassword parses [WITH] PASSWORD 'text'.
func (p *parser) parsePassword() (string, error) {
	p.acceptWord("with")
	if err := p.expectWord("password"); err != nil {
		return "", err
	}
	t, err := p.expect(tkString, "a password string")
	if err != nil {
		return "", err
	}
	return t.str, nil
}

// parseCreateUser parses what follows CREATE: USER|ROLE [IF NOT EXISTS]
// name [[WITH] PASSWORD 'pw'].
func (p *parser) parseCreateUser(start *token) (ast.Statement, error) {
	stmt := &ast.CreateUser{At: start.at(), Role: p.next().str == "role"}
	stmt.IfNotExists = p.acceptIfNotExists()
	var err error
	if stmt.Name, err = p.ident("user name"); err != nil {
		return nil, err
	}
	if p.isWord("with") || p.isWord("password") {
		pw, err := p.parsePassword()
		if err != nil {
			return nil, err
		}
		stmt.Password = &pw
	}
	return stmt, nil
}

// parseAlterUser parses what follows ALTER: USER|ROLE name [WITH] PASSWORD 'pw'.
func (p *parser) parseAlterUser(start *token) (ast.Statement, error) {
	p.next()
	stmt := &ast.AlterUser{At: start.at()}
	var err error
	if stmt.Name, err = p.ident("user name"); err != nil {
		return nil, err
	}
	if stmt.Password, err = p.parsePassword(); err != nil {
		return nil, err
	}
	return stmt, nil
}

// parseDropUser parses what follows DROP: USER|ROLE [IF EXISTS] name.
func (p *parser) parseDropUser(start *token) (ast.Statement, error) {
	stmt := &ast.DropUser{At: start.at(), Role: p.next().str == "role"}
	stmt.IfExists = p.acceptIfExists()
	var err error
	if stmt.Name, err = p.ident("user name"); err != nil {
		return nil, err
	}
	return stmt, nil
}

// parseShowAuth parses what follows SHOW when it is USERS, ROLES or
// GRANTS [FOR name]; ok=false otherwise (nothing consumed).
func (p *parser) parseShowAuth(start *token) (stmt ast.Statement, ok bool, err error) {
	switch {
	case p.acceptWord("users"), p.acceptWord("roles"):
		return &ast.ShowUsers{At: start.at()}, true, nil
	case p.acceptWord("grants"):
		s := &ast.ShowGrants{At: start.at()}
		if p.acceptKw(kwOn) {
			what := "table name"
			switch {
			case p.acceptKw(kwDatabase):
				s.OnDatabase, what = true, "database name"
			case p.acceptKw(kwTable):
			}
			if s.On, err = p.ident(what); err != nil {
				return nil, true, err
			}
		}
		if p.acceptWord("for") {
			if s.For, err = p.ident("user or role name"); err != nil {
				return nil, true, err
			}
		}
		return s, true, nil
	}
	return nil, false, nil
}
