package pgcatalog

import (
	"slices"
	"strconv"
	"strings"

	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/privilege"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// row is one generated row by column name; absent columns are NULL.
type row map[string]types.Value

type column struct {
	name string
	kind types.Kind
}

type tableDef struct {
	cols []column
	// rows generates the rows (nil: the table is always empty).
	rows func(c *Catalog, s *snapshot) []row
}

// cols parses "name:kind ..." with kinds i (INT64), s (STRING), b (BOOL),
// f (FLOAT64). Arrays are STRING (their text form).
func cols(spec string) []column {
	var out []column
	for _, f := range strings.Fields(spec) {
		name, k, _ := strings.Cut(f, ":")
		kind := types.String
		switch k {
		case "i":
			kind = types.Int64
		case "b":
			kind = types.Bool
		case "f":
			kind = types.Float64
		}
		out = append(out, column{name: name, kind: kind})
	}
	return out
}

var (
	I = types.NewInt
	S = types.NewString
	B = types.NewBool
)

type namespace struct {
	oid  int64
	name string
}

var namespaces = []namespace{{nsPgCatalog, "pg_catalog"}, {nsPublic, "public"}, {nsInformationSchema, "information_schema"}}

// int2vector renders column numbers as PostgreSQL's int2vector text.
func int2vector(nums []int64) string {
	parts := make([]string, len(nums))
	for i, n := range nums {
		parts[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(parts, " ")
}

func intArray(nums []int64) string {
	vals := make([]types.Value, len(nums))
	for i, n := range nums {
		vals[i] = I(n)
	}
	return builtins.FormatArray(vals)
}

// attnum is a column's number as pg_attribute shows it: its position among
// the visible columns, from 1 (0 for the hidden row id).
func attnum(t *catalog.TableDesc, columnID uint32) int64 {
	for i, o := range t.VisibleColumns() {
		if t.Columns[o].ID == columnID {
			return int64(i + 1)
		}
	}
	return 0
}

func indexAttnums(t *catalog.TableDesc, idx *catalog.IndexDesc) []int64 {
	out := make([]int64, len(idx.Columns))
	for i, ic := range idx.Columns {
		out[i] = attnum(t, ic.ColumnID)
	}
	return out
}

func dbName(s *snapshot) string {
	if s.db == nil {
		return ""
	}
	return s.db.Name
}

var pgCatalogTables = map[string]*tableDef{
	"pg_namespace": {cols: cols("oid:i nspname nspowner:i nspacl"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, n := range namespaces {
			out = append(out, row{"oid": I(n.oid), "nspname": S(n.name), "nspowner": I(rootRoleOID)})
		}
		return out
	}},
	"pg_class": {cols: cols(`oid:i relname relnamespace:i reltype:i reloftype:i relowner:i relam:i relfilenode:i
		reltablespace:i relpages:i reltuples:f relallvisible:i reltoastrelid:i relhasindex:b relisshared:b
		relpersistence relkind relnatts:i relchecks:i relhasrules:b relhastriggers:b relhassubclass:b
		relrowsecurity:b relforcerowsecurity:b relispopulated:b relreplident relispartition:b relrewrite:i
		relfrozenxid:i relminmxid:i relacl reloptions relpartbound`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, r := range s.relations {
			am, natts, hasIndex := amHeap, int64(len(r.table.VisibleColumns())), len(indexes(r.table)) > 0
			if r.kind == "v" || r.kind == "S" {
				am = 0
			}
			if r.kind == "i" {
				am, natts, hasIndex = amBtree, int64(len(r.index.Columns)), false
			}
			checks := int64(0)
			if r.kind == "r" {
				for _, ch := range r.table.Checks {
					if ch.State == catalog.IndexPublic {
						checks++
					}
				}
			}
			out = append(out, row{"oid": I(r.oid), "relname": S(r.name), "relnamespace": I(nsPublic), "reltype": I(0),
				"reloftype": I(0), "relowner": I(rootRoleOID), "relam": I(am), "relfilenode": I(r.oid), "reltablespace": I(0),
				"relpages": I(0), "reltuples": types.NewFloat(-1), "relallvisible": I(0), "reltoastrelid": I(0),
				"relhasindex": B(hasIndex), "relisshared": B(false), "relpersistence": S("p"), "relkind": S(r.kind),
				"relnatts": I(natts), "relchecks": I(checks), "relhasrules": B(false), "relhastriggers": B(false),
				"relhassubclass": B(false), "relrowsecurity": B(false), "relforcerowsecurity": B(false),
				"relispopulated": B(true), "relreplident": S("d"), "relispartition": B(false), "relrewrite": I(0),
				"relfrozenxid": I(0), "relminmxid": I(0)})
		}
		return out
	}},
	"pg_attribute": {cols: cols(`attrelid:i attname atttypid:i attstattarget:i attlen:i attnum:i attndims:i attcacheoff:i
		atttypmod:i attbyval:b attalign attstorage attcompression attnotnull:b atthasdef:b atthasmissing:b
		attidentity attgenerated attisdropped:b attislocal:b attinhcount:i attcollation:i attacl attoptions attfdwoptions`),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			attr := func(rel int64, num int64, name string, t pgType, typmod int64, notNull, hasDef bool) row {
				storage := "p"
				if t.length < 0 {
					storage = "x"
				}
				coll := int64(0)
				if t.collated {
					coll = 100
				}
				return row{"attrelid": I(rel), "attname": S(name), "atttypid": I(t.oid), "attstattarget": I(-1),
					"attlen": I(t.length), "attnum": I(num), "attndims": I(0), "attcacheoff": I(-1), "atttypmod": I(typmod),
					"attbyval": B(t.byVal), "attalign": S("d"), "attstorage": S(storage), "attcompression": S(""),
					"attnotnull": B(notNull), "atthasdef": B(hasDef), "atthasmissing": B(false), "attidentity": S(""),
					"attgenerated": S(""), "attisdropped": B(false), "attislocal": B(true), "attinhcount": I(0),
					"attcollation": I(coll)}
			}
			for _, r := range s.relations {
				if r.kind == "r" || r.kind == "v" || r.kind == "S" {
					for i, o := range r.table.VisibleColumns() {
						col := r.table.Columns[o]
						typ, typmod := c.columnType(&col)
						a := attr(r.oid, int64(i+1), col.Name, typ, typmod, col.NotNull, col.Default != "")
						switch col.Identity {
						case "ALWAYS":
							a["attidentity"], a["atthasdef"] = S("a"), B(false)
						case "BY DEFAULT":
							a["attidentity"], a["atthasdef"] = S("d"), B(false)
						}
						out = append(out, a)
					}
					continue
				}
				for i, ic := range r.index.Columns {
					o := r.table.ColumnOrdinalByID(ic.ColumnID)
					if o >= 0 {
						col := r.table.Columns[o]
						typ, typmod := c.columnType(&col)
						out = append(out, attr(r.oid, int64(i+1), col.Name, typ, typmod, false, false))
					}
				}
			}
			return out
		}},
	"pg_attrdef": {cols: cols("oid:i adrelid:i adnum:i adbin"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			for i, o := range t.VisibleColumns() {
				if d := t.Columns[o].Default; d != "" && t.Columns[o].Identity == "" {
					out = append(out, row{"oid": I(tableOID(t) | 0x4000 | int64(i+1)), "adrelid": I(tableOID(t)), "adnum": I(int64(i + 1)), "adbin": S(pgDefault(d))})
				}
			}
		}
		return out
	}},
	"pg_type": {cols: cols(`oid:i typname typnamespace:i typowner:i typlen:i typbyval:b typtype typcategory
		typispreferred:b typisdefined:b typdelim typrelid:i typsubscript:i typelem:i typarray:i typinput typoutput
		typreceive typsend typalign typstorage typnotnull:b typbasetype:i typtypmod:i typndims:i typcollation:i
		typdefault typacl`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range builtinTypes {
			coll := int64(0)
			if t.collated {
				coll = 100
			}
			out = append(out, row{"oid": I(t.oid), "typname": S(t.name), "typnamespace": I(nsPgCatalog), "typowner": I(rootRoleOID),
				"typlen": I(t.length), "typbyval": B(t.byVal), "typtype": S("b"), "typcategory": S(t.category),
				"typispreferred": B(false), "typisdefined": B(true), "typdelim": S(","), "typrelid": I(0), "typsubscript": I(0),
				"typelem": I(0), "typarray": I(0), "typinput": S(t.name + "in"), "typoutput": S(t.name + "out"),
				"typreceive": S(t.name + "recv"), "typsend": S(t.name + "send"), "typalign": S("i"), "typstorage": S("p"),
				"typnotnull": B(false), "typbasetype": I(0), "typtypmod": I(-1), "typndims": I(0), "typcollation": I(coll)})
		}
		return out
	}},
	"pg_index": {cols: cols(`indexrelid:i indrelid:i indnatts:i indnkeyatts:i indisunique:b indnullsnotdistinct:b
		indisprimary:b indisexclusion:b indimmediate:b indisclustered:b indisvalid:b indcheckxmin:b indisready:b
		indislive:b indisreplident:b indkey indcollation indclass indoption indexprs indpred`),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, r := range s.relations {
				if r.kind != "i" {
					continue
				}
				n := int64(len(r.index.Columns))
				out = append(out, row{"indexrelid": I(r.oid), "indrelid": I(tableOID(r.table)), "indnatts": I(n), "indnkeyatts": I(n),
					"indisunique": B(r.index.Unique), "indnullsnotdistinct": B(false), "indisprimary": B(r.index.ID == catalog.PrimaryIndexID),
					"indisexclusion": B(false), "indimmediate": B(true), "indisclustered": B(false),
					"indisvalid": B(r.index.State == catalog.IndexPublic), "indcheckxmin": B(false), "indisready": B(true),
					"indislive": B(true), "indisreplident": B(false), "indkey": S(int2vector(indexAttnums(r.table, r.index))),
					"indcollation": S(""), "indclass": S(""), "indoption": S("")})
			}
			return out
		}},
	"pg_constraint": {cols: cols(`oid:i conname connamespace:i contype condeferrable:b condeferred:b convalidated:b
		conrelid:i contypid:i conindid:i conparentid:i confrelid:i confupdtype confdeltype confmatchtype conislocal:b
		coninhcount:i connoinherit:b conkey confkey conpfeqop conppeqop conffeqop confdelsetcols conexclop conbin`),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.tables {
				for i, ck := range t.Checks {
					if ck.State != catalog.IndexPublic {
						continue
					}
					out = append(out, row{"oid": I(checkOID(t, i)), "conname": S(ck.Name), "connamespace": I(nsPublic),
						"contype": S("c"), "condeferrable": B(false), "condeferred": B(false), "convalidated": B(true),
						"conrelid": I(tableOID(t)), "contypid": I(0), "conindid": I(0), "conparentid": I(0),
						"confrelid": I(0), "confupdtype": S(" "), "confdeltype": S(" "), "confmatchtype": S(" "),
						"conislocal": B(true), "coninhcount": I(0), "connoinherit": B(false), "conbin": S(ck.Expr)})
				}
				if t.HiddenRowID {
					continue
				}
				pk := &t.PrimaryKey
				out = append(out, row{"oid": I(constraintOID(t, pk)), "conname": S(indexName(t, pk)), "connamespace": I(nsPublic),
					"contype": S("p"), "condeferrable": B(false), "condeferred": B(false), "convalidated": B(true),
					"conrelid": I(tableOID(t)), "contypid": I(0), "conindid": I(indexOID(t, pk)), "conparentid": I(0),
					"confrelid": I(0), "confupdtype": S(" "), "confdeltype": S(" "), "confmatchtype": S(" "),
					"conislocal": B(true), "coninhcount": I(0), "connoinherit": B(true), "conkey": S(intArray(indexAttnums(t, pk)))})
			}
			return out
		}},
	"pg_database": {cols: cols(`oid:i datname datdba:i encoding:i datlocprovider datistemplate:b datallowconn:b
		datconnlimit:i datfrozenxid:i datminmxid:i dattablespace:i datcollate datctype daticulocale datcollversion datacl`),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, db := range s.databases {
				out = append(out, row{"oid": I(databaseOID(db)), "datname": S(db.Name), "datdba": I(rootRoleOID),
					"encoding": I(encodingUTF8), "datlocprovider": S("c"), "datistemplate": B(false), "datallowconn": B(true),
					"datconnlimit": I(-1), "datfrozenxid": I(0), "datminmxid": I(0), "dattablespace": I(1663),
					"datcollate": S("C"), "datctype": S("C")})
			}
			return out
		}},
	"pg_roles": {cols: cols(`oid:i rolname rolsuper:b rolinherit:b rolcreaterole:b rolcreatedb:b rolcanlogin:b
		rolreplication:b rolconnlimit:i rolpassword rolvaliduntil rolbypassrls:b rolconfig`), rows: rolesRows},
	"pg_user": {cols: cols(`usename usesysid:i usecreatedb:b usesuper:b userepl:b usebypassrls:b passwd valuntil useconfig`),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, u := range s.users {
				if u.Role {
					continue
				}
				super := superuser(u)
				out = append(out, row{"usename": S(u.Name), "usesysid": I(roleOID(u.Name)), "usecreatedb": B(super),
					"usesuper": B(super), "userepl": B(false), "usebypassrls": B(false), "passwd": S("********")})
			}
			return out
		}},
	"pg_auth_members": {cols: cols("roleid:i member:i grantor:i admin_option:b"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, u := range s.users {
			for _, r := range u.MemberOf {
				out = append(out, row{"roleid": I(roleOID(r)), "member": I(roleOID(u.Name)), "grantor": I(rootRoleOID), "admin_option": B(false)})
			}
		}
		return out
	}},
	"pg_settings": {cols: cols(`name setting unit category short_desc extra_desc context vartype source min_val max_val
		enumvals boot_val reset_val sourcefile sourceline:i pending_restart:b`), rows: func(c *Catalog, s *snapshot) []row {
		if c.cfg.Settings == nil {
			return nil
		}
		var out []row
		for _, st := range sortedSettings(c.cfg.Settings()) {
			out = append(out, row{"name": S(st[0]), "setting": S(st[1]), "category": S("Client Connection Defaults"),
				"short_desc": S(st[2]), "context": S("user"), "vartype": S("string"), "source": S("session"),
				"boot_val": S(st[1]), "reset_val": S(st[1]), "pending_restart": B(false)})
		}
		return out
	}},
	"pg_description": {cols: cols("objoid:i classoid:i objsubid:i description"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			if t.Comment != "" {
				out = append(out, row{"objoid": I(tableOID(t)), "classoid": I(classOIDPgClass), "objsubid": I(0), "description": S(t.Comment)})
			}
			for i, o := range t.VisibleColumns() {
				if cm := t.Columns[o].Comment; cm != "" {
					out = append(out, row{"objoid": I(tableOID(t)), "classoid": I(classOIDPgClass), "objsubid": I(int64(i + 1)), "description": S(cm)})
				}
			}
		}
		return out
	}},
	"pg_am": {cols: cols("oid:i amname amhandler amtype"), rows: func(c *Catalog, s *snapshot) []row {
		return []row{{"oid": I(amHeap), "amname": S("heap"), "amhandler": S("heap_tableam_handler"), "amtype": S("t")},
			{"oid": I(amBtree), "amname": S("btree"), "amhandler": S("bthandler"), "amtype": S("i")}}
	}},
	"pg_tables": {cols: cols("schemaname tablename tableowner tablespace hasindexes:b hasrules:b hastriggers:b rowsecurity:b"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.tables {
				if t.View != "" {
					continue
				}
				out = append(out, row{"schemaname": S("public"), "tablename": S(t.Name), "tableowner": S("root"),
					"hasindexes": B(len(indexes(t)) > 0), "hasrules": B(false), "hastriggers": B(false), "rowsecurity": B(false)})
			}
			return out
		}},
	"pg_indexes": {cols: cols("schemaname tablename indexname tablespace indexdef"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, r := range s.relations {
			if r.kind == "i" {
				out = append(out, row{"schemaname": S("public"), "tablename": S(r.table.Name), "indexname": S(r.name), "indexdef": S(indexDef(r.table, r.index))})
			}
		}
		return out
	}},
	// Catalogs of features that do not exist here: clients query them,
	// and they are empty.
	"pg_views": {cols: cols("schemaname viewname viewowner definition"), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			if t.View != "" {
				out = append(out, row{"schemaname": S("public"), "viewname": S(t.Name), "viewowner": S("root"), "definition": S(t.View)})
			}
		}
		return out
	}},
	"pg_matviews": {cols: cols("schemaname matviewname matviewowner tablespace hasindexes:b ispopulated:b definition")},
	"pg_sequence": {cols: cols("seqrelid:i seqtypid:i seqstart:i seqincrement:i seqmax:i seqmin:i seqcache:i seqcycle:b"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.sequences {
				d := t.Sequence
				out = append(out, row{"seqrelid": I(tableOID(t)), "seqtypid": I(sequenceTypeOID(d)), "seqstart": I(d.Start),
					"seqincrement": I(d.Increment), "seqmax": I(d.Max), "seqmin": I(d.Min), "seqcache": I(d.Cache), "seqcycle": B(d.Cycle)})
			}
			return out
		}},
	"pg_sequences": {cols: cols("schemaname sequencename sequenceowner data_type start_value:i min_value:i max_value:i increment_by:i cycle:b cache_size:i last_value:i"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.sequences {
				d := t.Sequence
				r := row{"schemaname": S("public"), "sequencename": S(t.Name), "sequenceowner": S("root"),
					"data_type": S(sequenceTypeName(d)), "start_value": I(d.Start), "min_value": I(d.Min), "max_value": I(d.Max),
					"increment_by": I(d.Increment), "cycle": B(d.Cycle), "cache_size": I(d.Cache)}
				// last_value is NULL until the first nextval (or after RESTART).
				if st, found, err := catalog.GetSequenceState(c.cfg.Ctx, c.cfg.KV, t.DBID, t.ID); err == nil && found && st.Called {
					r["last_value"] = I(st.Last)
				}
				out = append(out, r)
			}
			return out
		}},
	"pg_policy":                {cols: cols("oid:i polname polrelid:i polcmd polpermissive:b polroles polqual polwithcheck")},
	"pg_statistic_ext":         {cols: cols("oid:i stxrelid:i stxname stxnamespace:i stxowner:i stxstattarget:i stxkeys stxkind stxexprs")},
	"pg_publication":           {cols: cols("oid:i pubname pubowner:i puballtables:b pubinsert:b pubupdate:b pubdelete:b pubtruncate:b pubviaroot:b")},
	"pg_publication_rel":       {cols: cols("oid:i prpubid:i prrelid:i prqual prattrs")},
	"pg_publication_namespace": {cols: cols("oid:i pnpubid:i pnnspid:i")},
	"pg_inherits":              {cols: cols("inhrelid:i inhparent:i inhseqno:i inhdetachpending:b")},
	"pg_collation":             {cols: cols("oid:i collname collnamespace:i collowner:i collprovider collisdeterministic:b collencoding:i collcollate collctype colliculocale collversion")},
	"pg_trigger":               {cols: cols("oid:i tgrelid:i tgparentid:i tgname tgfoid:i tgtype:i tgenabled tgisinternal:b tgconstrrelid:i tgconstrindid:i tgconstraint:i tgdeferrable:b tginitdeferred:b tgnargs:i tgattr tgargs tgqual tgoldtable tgnewtable")},
	"pg_rewrite":               {cols: cols("oid:i rulename ev_class:i ev_type ev_enabled is_instead:b ev_qual ev_action")},
	"pg_extension":             {cols: cols("oid:i extname extowner:i extnamespace:i extrelocatable:b extversion extconfig extcondition")},
	"pg_proc":                  {cols: cols("oid:i proname pronamespace:i proowner:i prolang:i prokind proretset:b prorettype:i pronargs:i proargtypes prosrc")},
	"pg_tablespace": {cols: cols("oid:i spcname spcowner:i spcacl spcoptions"), rows: func(c *Catalog, s *snapshot) []row {
		return []row{{"oid": I(1663), "spcname": S("pg_default"), "spcowner": I(rootRoleOID)},
			{"oid": I(1664), "spcname": S("pg_global"), "spcowner": I(rootRoleOID)}}
	}},
	"pg_foreign_table":     {cols: cols("ftrelid:i ftserver:i ftoptions")},
	"pg_partitioned_table": {cols: cols("partrelid:i partstrat partnatts:i partdefid:i partattrs")},
	"pg_enum":              {cols: cols("oid:i enumtypid:i enumsortorder:f enumlabel")},
	"pg_range":             {cols: cols("rngtypid:i rngsubtype:i")},
	"pg_event_trigger":     {cols: cols("oid:i evtname evtevent evtowner:i evtfoid:i evtenabled evttags")},
	"pg_shdescription":     {cols: cols("objoid:i classoid:i description")},
	// pg_depend holds the one dependency there is: a sequence owned by a
	// column (deptype 'a' for SERIAL and OWNED BY, 'i' for identity).
	"pg_depend": {cols: cols("classid:i objid:i objsubid:i refclassid:i refobjid:i refobjsubid:i deptype"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.tables {
				for i, o := range t.VisibleColumns() {
					col := &t.Columns[o]
					for _, seq := range catalog.OwnedSequences(s.sequences, t, col.ID) {
						deptype := "a"
						if col.Identity != "" {
							deptype = "i"
						}
						out = append(out, row{"classid": I(classOIDPgClass), "objid": I(tableOID(seq)), "objsubid": I(0),
							"refclassid": I(classOIDPgClass), "refobjid": I(tableOID(t)), "refobjsubid": I(int64(i + 1)), "deptype": S(deptype)})
					}
				}
			}
			return out
		}},
	"pg_stat_activity": {cols: cols("datid:i datname pid:i usename application_name client_addr state query")},
}

// superuser: root, the admin role and its members.
func superuser(u *privilege.User) bool {
	return u.Name == privilege.RootUser || u.Name == privilege.AdminRole || slices.Contains(u.MemberOf, privilege.AdminRole)
}

func rolesRows(c *Catalog, s *snapshot) []row {
	var out []row
	for _, u := range s.users {
		super := superuser(u)
		out = append(out, row{"oid": I(roleOID(u.Name)), "rolname": S(u.Name), "rolsuper": B(super), "rolinherit": B(true),
			"rolcreaterole": B(super), "rolcreatedb": B(super), "rolcanlogin": B(!u.Role), "rolreplication": B(false),
			"rolconnlimit": I(-1), "rolpassword": S("********"), "rolbypassrls": B(false)})
	}
	return out
}

// sequenceTypeOID is the oid of a sequence's type (int2, int4 or int8).
func sequenceTypeOID(d *catalog.SequenceDesc) int64 {
	switch d.Width {
	case 16:
		return 21
	case 32:
		return 23
	}
	return 20
}

// sequenceTypeName is a sequence's type as PostgreSQL names it.
func sequenceTypeName(d *catalog.SequenceDesc) string {
	switch d.Width {
	case 16:
		return "smallint"
	case 32:
		return "integer"
	}
	return "bigint"
}

// pgDefault is a DEFAULT as PostgreSQL shows it: nextval of a sequence
// (SERIAL) reads nextval('name'::regclass), which drivers and ORMs look
// for to recognise an auto-increment column.
func pgDefault(text string) string {
	if inner, ok := strings.CutPrefix(text, "NEXTVAL('"); ok && strings.HasSuffix(inner, "')") {
		return "nextval('" + strings.TrimSuffix(inner, "')") + "'::regclass)"
	}
	return text
}
