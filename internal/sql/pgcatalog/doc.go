// Package pgcatalog generates PostgreSQL's system catalogs for one
// statement: the pg_catalog tables (pg_class, pg_namespace, pg_attribute,
// pg_type, pg_index, pg_constraint, pg_database, pg_roles, pg_settings,
// pg_description, pg_am and the ones clients only expect to exist, empty)
// and the information_schema views (schemata, tables, columns,
// table_constraints, key_column_usage), plus the catalog functions psql
// and drivers call (format_type, pg_get_indexdef, pg_table_is_visible,
// obj_description, regclass...).
//
// Rows are built from the descriptors of the statement's database, read
// in the statement's transaction, and only for the objects its user may
// see: tables on which the user holds some privilege, databases the user
// may use (a privilege.Checker decides; none means root, who sees all).
// The planner reads them like any other table (plan.VirtualTables), so
// joins, filters and ORDER BY work as usual.
//
// Object identifiers are derived, not stored: a table's oid is its table
// id << 16, an index's is the table's oid | the index id, its constraint's
// adds 0x8000; schemas are pg_catalog 11, public 2200, information_schema
// 13000; root is role 10 and other roles hash their name. Type oids come
// from the front-end's mapping of column kinds to PostgreSQL types (the
// pgwire package's typeOID, passed in as Config.TypeOID), so a kind added
// there appears in pg_type, pg_attribute and information_schema.columns.
//
// Not done: schemas other than public, views, sequences, per-column
// privileges, typmods (VARCHAR(n) shows as character varying).
package pgcatalog
