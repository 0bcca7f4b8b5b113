package httpapi

import "testing"

func TestColumnType(t *testing.T) {
	for in, want := range map[string]string{
		"VARCHAR(20)": "VARCHAR(20)", "char(3)": "CHAR(3)", "numeric(10, 2)": "NUMERIC(10,2)", "decimal(5)": "NUMERIC(5,0)",
		"integer": "INTEGER", "bytea": "BYTEA", "timestamptz": "TIMESTAMPTZ", "jsonb": "JSONB", "text": "STRING",
	} {
		got, err := columnType("c", in)
		if err != nil || got.String() != want {
			t.Errorf("%q: %v %v, want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"geometry", "int(3)", "varchar(x)", "numeric(3,4)", "varchar(0)", "numeric(", "varchar(3"} {
		if _, err := columnType("c", bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
