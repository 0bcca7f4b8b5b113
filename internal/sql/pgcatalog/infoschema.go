package pgcatalog

import (
	"strconv"

	"github.com/camusdb/camusdb-go/internal/sql/catalog"
	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// informationSchemaTables are the SQL-standard views drivers and ORMs
// introspect with.
var informationSchemaTables = map[string]*tableDef{
	"schemata": {cols: cols(`catalog_name schema_name schema_owner default_character_set_catalog
		default_character_set_schema default_character_set_name sql_path`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, n := range namespaces {
			out = append(out, row{"catalog_name": S(dbName(s)), "schema_name": S(n.name), "schema_owner": S("root")})
		}
		return out
	}},
	"tables": {cols: cols(`table_catalog table_schema table_name table_type self_referencing_column_name
		reference_generation user_defined_type_catalog user_defined_type_schema user_defined_type_name
		is_insertable_into is_typed commit_action`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			kind, insertable := "BASE TABLE", "YES"
			if t.View != "" {
				kind, insertable = "VIEW", "NO"
			}
			out = append(out, row{"table_catalog": S(dbName(s)), "table_schema": S("public"), "table_name": S(t.Name),
				"table_type": S(kind), "is_insertable_into": S(insertable), "is_typed": S("NO")})
		}
		return out
	}},
	"columns": {cols: cols(`table_catalog table_schema table_name column_name ordinal_position:i column_default
		is_nullable data_type character_maximum_length:i character_octet_length:i numeric_precision:i
		numeric_precision_radix:i numeric_scale:i datetime_precision:i interval_type interval_precision:i
		udt_catalog udt_schema udt_name is_identity identity_generation identity_start identity_increment
		identity_maximum identity_minimum identity_cycle is_generated generation_expression
		is_updatable collation_name domain_name`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			for i, o := range t.VisibleColumns() {
				col := t.Columns[o]
				typ, typmod := c.columnType(&col)
				r := row{"table_catalog": S(dbName(s)), "table_schema": S("public"), "table_name": S(t.Name),
					"column_name": S(col.Name), "ordinal_position": I(int64(i + 1)), "is_nullable": S(yesNo(!col.NotNull)),
					"data_type": S(typ.display), "udt_catalog": S(dbName(s)), "udt_schema": S("pg_catalog"),
					"udt_name": S(typ.name), "is_identity": S("NO"), "is_generated": S("NEVER"), "is_updatable": S("YES")}
				switch {
				case col.Identity != "":
					r["is_identity"], r["identity_generation"] = S("YES"), S(col.Identity)
				case col.Default != "":
					r["column_default"] = S(pgDefault(col.Default))
				}
				switch typ.name {
				case "varchar", "bpchar":
					if typmod >= 4 {
						r["character_maximum_length"] = I(typmod - 4)
					}
				case "numeric":
					if typmod >= 4 {
						r["numeric_precision"], r["numeric_precision_radix"] = I((typmod-4)>>16), I(10)
						r["numeric_scale"] = I((typmod - 4) & 0xffff)
					}
				case "int8", "int4", "int2", "float8", "float4":
					bits := map[string]int64{"int8": 64, "int4": 32, "int2": 16, "float8": 53, "float4": 24}[typ.name]
					r["numeric_precision"], r["numeric_precision_radix"] = I(bits), I(2)
					if col.Kind == types.Int64 {
						r["numeric_scale"] = I(0)
					}
				}
				out = append(out, r)
			}
		}
		return out
	}},
	"table_constraints": {cols: cols(`constraint_catalog constraint_schema constraint_name table_catalog table_schema
		table_name constraint_type is_deferrable initially_deferred enforced nulls_distinct`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			for _, idx := range constraintIndexes(t) {
				kind := "UNIQUE"
				if idx.ID == catalog.PrimaryIndexID {
					kind = "PRIMARY KEY"
				}
				out = append(out, row{"constraint_catalog": S(dbName(s)), "constraint_schema": S("public"),
					"constraint_name": S(indexName(t, idx)), "table_catalog": S(dbName(s)), "table_schema": S("public"),
					"table_name": S(t.Name), "constraint_type": S(kind), "is_deferrable": S("NO"),
					"initially_deferred": S("NO"), "enforced": S("YES"), "nulls_distinct": S("YES")})
			}
		}
		return out
	}},
	"key_column_usage": {cols: cols(`constraint_catalog constraint_schema constraint_name table_catalog table_schema
		table_name column_name ordinal_position:i position_in_unique_constraint:i`), rows: func(c *Catalog, s *snapshot) []row {
		var out []row
		for _, t := range s.tables {
			for _, idx := range constraintIndexes(t) {
				for i, ic := range idx.Columns {
					o := t.ColumnOrdinalByID(ic.ColumnID)
					if o < 0 {
						continue
					}
					out = append(out, row{"constraint_catalog": S(dbName(s)), "constraint_schema": S("public"),
						"constraint_name": S(indexName(t, idx)), "table_catalog": S(dbName(s)), "table_schema": S("public"),
						"table_name": S(t.Name), "column_name": S(t.Columns[o].Name), "ordinal_position": I(int64(i + 1))})
				}
			}
		}
		return out
	}},
	"views": {cols: cols("table_catalog table_schema table_name view_definition check_option is_updatable is_insertable_into"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.tables {
				if t.View != "" {
					out = append(out, row{"table_catalog": S(dbName(s)), "table_schema": S("public"), "table_name": S(t.Name),
						"view_definition": S(t.View), "check_option": S("NONE"), "is_updatable": S("NO"), "is_insertable_into": S("NO")})
				}
			}
			return out
		}},
	"referential_constraints": {cols: cols("constraint_catalog constraint_schema constraint_name unique_constraint_catalog unique_constraint_schema unique_constraint_name match_option update_rule delete_rule")},
	"constraint_column_usage": {cols: cols("table_catalog table_schema table_name column_name constraint_catalog constraint_schema constraint_name"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.tables {
				for _, idx := range constraintIndexes(t) {
					for _, ic := range idx.Columns {
						if o := t.ColumnOrdinalByID(ic.ColumnID); o >= 0 {
							out = append(out, row{"table_catalog": S(dbName(s)), "table_schema": S("public"), "table_name": S(t.Name),
								"column_name": S(t.Columns[o].Name), "constraint_catalog": S(dbName(s)), "constraint_schema": S("public"),
								"constraint_name": S(indexName(t, idx))})
						}
					}
				}
			}
			return out
		}},
	"sequences": {cols: cols("sequence_catalog sequence_schema sequence_name data_type numeric_precision:i numeric_precision_radix:i numeric_scale:i start_value minimum_value maximum_value increment cycle_option"),
		rows: func(c *Catalog, s *snapshot) []row {
			var out []row
			for _, t := range s.sequences {
				d := t.Sequence
				cycle := "NO"
				if d.Cycle {
					cycle = "YES"
				}
				// PostgreSQL gives the numbers as text here.
				out = append(out, row{"sequence_catalog": S(dbName(s)), "sequence_schema": S("public"), "sequence_name": S(t.Name),
					"data_type": S(sequenceTypeName(d)), "numeric_precision": I(int64(d.Width)), "numeric_precision_radix": I(2), "numeric_scale": I(0),
					"start_value": S(strconv.FormatInt(d.Start, 10)), "minimum_value": S(strconv.FormatInt(d.Min, 10)),
					"maximum_value": S(strconv.FormatInt(d.Max, 10)), "increment": S(strconv.FormatInt(d.Increment, 10)), "cycle_option": S(cycle)})
			}
			return out
		}},
}

// constraintIndexes are the indexes information_schema reports as
// constraints: the primary key. A unique index is an index, not a
// constraint, as in PostgreSQL after CREATE UNIQUE INDEX (ORMs compare
// these views with their models and would drop or re-add it otherwise).
func constraintIndexes(t *catalog.TableDesc) []*catalog.IndexDesc {
	if t.HiddenRowID {
		return nil
	}
	return []*catalog.IndexDesc{&t.PrimaryKey}
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}
