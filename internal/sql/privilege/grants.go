package privilege

import (
	"context"
	"encoding/binary"
	"strings"

	"github.com/camusdb/camusdb-go/internal/kvpb"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Priv is a set of privileges.
type Priv uint32

// Privileges. Table objects take Select..Delete; databases take Create.
// Owner is implied by creating the object and allows everything on it.
const (
	PrivSelect Priv = 1 << iota
	PrivInsert
	PrivUpdate
	PrivDelete
	PrivCreate
	PrivOwner

	// PrivAllTable is ALL [PRIVILEGES] on a table.
	PrivAllTable = PrivSelect | PrivInsert | PrivUpdate | PrivDelete
	// PrivAllDatabase is ALL [PRIVILEGES] on a database.
	PrivAllDatabase = PrivCreate
)

var privNames = []struct {
	p    Priv
	name string
}{
	{PrivSelect, "SELECT"}, {PrivInsert, "INSERT"}, {PrivUpdate, "UPDATE"},
	{PrivDelete, "DELETE"}, {PrivCreate, "CREATE"}, {PrivOwner, "OWNER"},
}

// String lists the privileges, comma-separated, e.g. "SELECT, INSERT".
func (p Priv) String() string {
	var names []string
	for _, n := range privNames {
		if p&n.p != 0 {
			names = append(names, n.name)
		}
	}
	return strings.Join(names, ", ")
}

// ParsePriv maps a privilege name (SELECT, INSERT, UPDATE, DELETE, CREATE,
// ALL) to its bits; ok=false when unknown. ALL depends on the object.
func ParsePriv(name string, onDatabase bool) (Priv, bool) {
	switch strings.ToUpper(name) {
	case "ALL":
		if onDatabase {
			return PrivAllDatabase, true
		}
		return PrivAllTable, true
	case "SELECT":
		return PrivSelect, !onDatabase
	case "INSERT":
		return PrivInsert, !onDatabase
	case "UPDATE":
		return PrivUpdate, !onDatabase
	case "DELETE":
		return PrivDelete, !onDatabase
	case "CREATE":
		return PrivCreate, onDatabase
	}
	return 0, false
}

// Object names a database (TableID 0) or a table by id.
type Object struct {
	DBID    uint32
	TableID uint32
}

// IsDatabase reports whether o is a database.
func (o Object) IsDatabase() bool { return o.TableID == 0 }

func grantKey(o Object, grantee string) []byte {
	k := []byte{kvpb.SystemTag, grantTag}
	if o.IsDatabase() {
		k = append(k, 'd')
		k = binary.BigEndian.AppendUint32(k, o.DBID)
	} else {
		k = append(k, 't')
		k = binary.BigEndian.AppendUint32(k, o.DBID)
		k = binary.BigEndian.AppendUint32(k, o.TableID)
	}
	return append(k, grantee...)
}

func decodeGrantKey(k []byte) (Object, string, bool) {
	if len(k) < 3 || k[0] != kvpb.SystemTag || k[1] != grantTag {
		return Object{}, "", false
	}
	switch k[2] {
	case 'd':
		if len(k) < 7 {
			return Object{}, "", false
		}
		return Object{DBID: binary.BigEndian.Uint32(k[3:7])}, string(k[7:]), true
	case 't':
		if len(k) < 11 {
			return Object{}, "", false
		}
		return Object{DBID: binary.BigEndian.Uint32(k[3:7]), TableID: binary.BigEndian.Uint32(k[7:11])}, string(k[11:]), true
	}
	return Object{}, "", false
}

func getPriv(ctx context.Context, kv catalog.KV, o Object, grantee string) (Priv, error) {
	b, found, err := kv.Get(ctx, grantKey(o, grantee))
	if err != nil || !found {
		return 0, err
	}
	if len(b) != 4 {
		return 0, errcode.New(errcode.Corruption, "grant record of %q has %d bytes", grantee, len(b))
	}
	return Priv(binary.BigEndian.Uint32(b)), nil
}

func putPriv(kv catalog.KV, o Object, grantee string, p Priv) error {
	if p == 0 {
		return kv.Delete(grantKey(o, grantee))
	}
	return kv.Put(grantKey(o, grantee), binary.BigEndian.AppendUint32(nil, uint32(p)))
}

// Grant adds privileges p on o to grantee, which must exist (CADB0022).
func Grant(ctx context.Context, kv catalog.KV, o Object, grantee string, p Priv) error {
	if _, err := mustGetUser(ctx, kv, grantee); err != nil {
		return err
	}
	have, err := getPriv(ctx, kv, o, grantee)
	if err != nil {
		return err
	}
	return putPriv(kv, o, grantee, have|p)
}

// Revoke removes privileges p on o from grantee (CADB0022 if unknown).
func Revoke(ctx context.Context, kv catalog.KV, o Object, grantee string, p Priv) error {
	if _, err := mustGetUser(ctx, kv, grantee); err != nil {
		return err
	}
	have, err := getPriv(ctx, kv, o, grantee)
	if err != nil {
		return err
	}
	return putPriv(kv, o, grantee, have&^p)
}

// Effective returns the union of the privileges any of principals holds
// on o (one point read per principal).
func Effective(ctx context.Context, kv catalog.KV, principals []string, o Object) (Priv, error) {
	var p Priv
	for _, name := range principals {
		got, err := getPriv(ctx, kv, o, name)
		if err != nil {
			return 0, err
		}
		p |= got
	}
	return p, nil
}

// GrantEntry is one stored grant.
type GrantEntry struct {
	Object  Object
	Grantee string
	Priv    Priv
}

// ListGrants returns every stored grant in key order.
func ListGrants(ctx context.Context, kv catalog.KV) ([]GrantEntry, error) {
	start := []byte{kvpb.SystemTag, grantTag}
	it := kv.Scan(ctx, start, kvpb.PrefixEnd(start), false)
	defer it.Close()
	var out []GrantEntry
	for it.Next(ctx) {
		o, grantee, ok := decodeGrantKey(it.Key())
		v := it.Value()
		if !ok || len(v) != 4 {
			return nil, errcode.New(errcode.Corruption, "grant record %q cannot be decoded", it.Key())
		}
		out = append(out, GrantEntry{Object: o, Grantee: grantee, Priv: Priv(binary.BigEndian.Uint32(v))})
	}
	return out, it.Err()
}
