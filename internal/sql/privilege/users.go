package privilege

import (
	"context"
	"encoding/json"
	"slices"
	"sort"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Built-in principals.
const (
	// RootUser always exists and is an admin.
	RootUser = "root"
	// AdminRole makes its members admins (everything is allowed to them).
	AdminRole = "admin"
)

// maxRoleDepth bounds the role membership graph walked for one user.
const maxRoleDepth = 16

const (
	userTag  byte = 'u'
	grantTag byte = 'g'
)

// User is a user (may log in when it has a password) or a role (never
// logs in; holds privileges for its members).
type User struct {
	Name string `json:"name"`
	Role bool   `json:"role,omitempty"`
	// Verifier is the SCRAM-SHA-256 verifier in Verifier.String form; ""
	// means no password (the user cannot log in with one).
	Verifier string `json:"verifier,omitempty"`
	// MemberOf lists the roles granted to this user, sorted.
	MemberOf []string `json:"memberOf,omitempty"`
}

func userKey(name string) []byte { return append([]byte{kvpb.SystemTag, userTag}, name...) }

func usersPrefix() []byte { return []byte{kvpb.SystemTag, userTag} }

func builtin(name string) *User {
	switch name {
	case RootUser:
		return &User{Name: RootUser}
	case AdminRole:
		return &User{Name: AdminRole, Role: true}
	}
	return nil
}

// GetUser reads a user or role; (nil, nil) when it does not exist. root and
// admin always exist.
func GetUser(ctx context.Context, kv catalog.KV, name string) (*User, error) {
	b, found, err := kv.Get(ctx, userKey(name))
	if err != nil {
		return nil, err
	}
	if !found {
		return builtin(name), nil
	}
	var u User
	if err := json.Unmarshal(b, &u); err != nil {
		return nil, errcode.New(errcode.Corruption, "user record %q cannot be decoded: %v", name, err)
	}
	return &u, nil
}

// mustGetUser is GetUser with CADB0022 for a missing principal.
func mustGetUser(ctx context.Context, kv catalog.KV, name string) (*User, error) {
	u, err := GetUser(ctx, kv, name)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, errcode.New(errcode.UnknownUser, "user or role %q does not exist", name)
	}
	return u, nil
}

// PutUser stores u.
func PutUser(kv catalog.KV, u *User) error {
	b, err := json.Marshal(u)
	if err != nil {
		return err
	}
	return kv.Put(userKey(u.Name), b)
}

// CreateUser stores a new user or role. created=false without error when
// it exists and ifNotExists is set; CADB0023 when it exists otherwise.
func CreateUser(ctx context.Context, kv catalog.KV, u *User, ifNotExists bool) (created bool, err error) {
	if err := catalog.ValidateName(u.Name); err != nil {
		return false, err
	}
	existing, err := GetUser(ctx, kv, u.Name)
	if err != nil {
		return false, err
	}
	if existing != nil {
		if ifNotExists {
			return false, nil
		}
		return false, errcode.New(errcode.UserExists, "user or role %q already exists", u.Name)
	}
	return true, PutUser(kv, u)
}

// SetPassword replaces the verifier of user name (CADB0022 if unknown,
// CADB0400 for a role).
func SetPassword(ctx context.Context, kv catalog.KV, name string, v Verifier) error {
	u, err := mustGetUser(ctx, kv, name)
	if err != nil {
		return err
	}
	if u.Role {
		return errcode.New(errcode.InvalidInput, "%q is a role; roles cannot log in", name)
	}
	u.Verifier = v.String()
	return PutUser(kv, u)
}

// DropUser removes a user (role=false) or a role (role=true), its
// memberships and its grants. root and admin cannot be dropped.
func DropUser(ctx context.Context, kv catalog.KV, name string, role, ifExists bool) (dropped bool, err error) {
	if builtin(name) != nil {
		return false, errcode.New(errcode.InvalidInput, "%q is built in and cannot be dropped", name)
	}
	u, err := GetUser(ctx, kv, name)
	if err != nil {
		return false, err
	}
	if u == nil {
		if ifExists {
			return false, nil
		}
		return false, errcode.New(errcode.UnknownUser, "user or role %q does not exist", name)
	}
	if u.Role != role {
		kind := "user"
		if u.Role {
			kind = "role"
		}
		return false, errcode.New(errcode.InvalidInput, "%q is a %s", name, kind)
	}
	if role {
		users, err := ListUsers(ctx, kv)
		if err != nil {
			return false, err
		}
		for _, other := range users {
			if i := slices.Index(other.MemberOf, name); i >= 0 {
				other.MemberOf = slices.Delete(other.MemberOf, i, i+1)
				if err := PutUser(kv, other); err != nil {
					return false, err
				}
			}
		}
	}
	grants, err := ListGrants(ctx, kv)
	if err != nil {
		return false, err
	}
	for _, g := range grants {
		if g.Grantee == name {
			if err := kv.Delete(grantKey(g.Object, name)); err != nil {
				return false, err
			}
		}
	}
	return true, kv.Delete(userKey(name))
}

// ListUsers returns every stored user and role plus the built-in ones,
// sorted by name.
func ListUsers(ctx context.Context, kv catalog.KV) ([]*User, error) {
	start := usersPrefix()
	it := kv.Scan(ctx, start, kvpb.PrefixEnd(start), false)
	defer it.Close()
	seen := map[string]bool{}
	var out []*User
	for it.Next(ctx) {
		var u User
		if err := json.Unmarshal(it.Value(), &u); err != nil {
			return nil, errcode.New(errcode.Corruption, "user record cannot be decoded: %v", err)
		}
		seen[u.Name] = true
		out = append(out, &u)
	}
	if err := it.Err(); err != nil {
		return nil, err
	}
	for _, name := range []string{RootUser, AdminRole} {
		if !seen[name] {
			out = append(out, builtin(name))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// GrantRole makes member a member of role. CADB0022 when either is
// unknown; CADB0400 when role is not a role or the grant would make a cycle.
func GrantRole(ctx context.Context, kv catalog.KV, role, member string) error {
	r, err := mustGetUser(ctx, kv, role)
	if err != nil {
		return err
	}
	if !r.Role {
		return errcode.New(errcode.InvalidInput, "%q is a user, not a role", role)
	}
	m, err := mustGetUser(ctx, kv, member)
	if err != nil {
		return err
	}
	if role == member {
		return errcode.New(errcode.InvalidInput, "role %q cannot be granted to itself", role)
	}
	// A cycle would make role a member of member.
	closure, err := Principals(ctx, kv, role)
	if err != nil {
		return err
	}
	if slices.Contains(closure, member) {
		return errcode.New(errcode.InvalidInput, "granting %q to %q would make a membership cycle", role, member)
	}
	if slices.Contains(m.MemberOf, role) {
		return nil
	}
	m.MemberOf = append(m.MemberOf, role)
	sort.Strings(m.MemberOf)
	return PutUser(kv, m)
}

// RevokeRole removes member from role (no error when it was not a member).
func RevokeRole(ctx context.Context, kv catalog.KV, role, member string) error {
	if _, err := mustGetUser(ctx, kv, role); err != nil {
		return err
	}
	m, err := mustGetUser(ctx, kv, member)
	if err != nil {
		return err
	}
	i := slices.Index(m.MemberOf, role)
	if i < 0 {
		return nil
	}
	m.MemberOf = slices.Delete(m.MemberOf, i, i+1)
	return PutUser(kv, m)
}

// Principals returns name and every role it is a member of, directly or
// through other roles (bounded depth), without duplicates. An unknown
// name yields just itself.
func Principals(ctx context.Context, kv catalog.KV, name string) ([]string, error) {
	out := []string{name}
	frontier := []string{name}
	for depth := 0; depth < maxRoleDepth && len(frontier) > 0; depth++ {
		var next []string
		for _, p := range frontier {
			u, err := GetUser(ctx, kv, p)
			if err != nil {
				return nil, err
			}
			if u == nil {
				continue
			}
			for _, r := range u.MemberOf {
				if !slices.Contains(out, r) {
					out = append(out, r)
					next = append(next, r)
				}
			}
		}
		frontier = next
	}
	return out, nil
}

// IsAdmin reports whether any of principals is root or the admin role.
func IsAdmin(principals []string) bool {
	return slices.Contains(principals, RootUser) || slices.Contains(principals, AdminRole)
}
