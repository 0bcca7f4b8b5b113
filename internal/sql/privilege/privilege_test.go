package privilege

import (
	"encoding/base64"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/parser"
)

// TestVerifierRFC7677 checks the derivation against the RFC 7677 example
// (user "user", password "pencil").
func TestVerifierRFC7677(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	v, err := DeriveVerifier("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	// ServerSignature of the RFC's exchange is HMAC(ServerKey, AuthMessage).
	auth := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	if got := base64.StdEncoding.EncodeToString(HMAC(v.ServerKey, []byte(auth))); got != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature %s", got)
	}
	back, err := ParseVerifier(v.String())
	if err != nil || back.String() != v.String() {
		t.Fatalf("round trip: %v %v", back, err)
	}
	if !v.CheckPassword("pencil") || v.CheckPassword("pencil2") {
		t.Fatal("CheckPassword")
	}
	if _, err := DeriveVerifier("x", salt, 100); err == nil {
		t.Fatal("iteration count below 4096 accepted")
	}
	for _, bad := range []string{"", "md5abc", "SCRAM-SHA-256$", "SCRAM-SHA-256$10:AA==$AA==:AA==",
		"SCRAM-SHA-256$4096:AA==$AA==:AA==", "SCRAM-SHA-256$4096:!!$" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + ":x"} {
		if _, err := ParseVerifier(bad); err == nil {
			t.Errorf("ParseVerifier(%q) accepted", bad)
		}
	}
}

func TestNeeds(t *testing.T) {
	for sql, want := range map[string]string{
		"SELECT * FROM a JOIN b ON a.x = b.x WHERE a.y IN (SELECT y FROM c)": "a:SELECT b:SELECT c:SELECT",
		"INSERT INTO a SELECT * FROM b":                                      "a:INSERT b:SELECT",
		"UPDATE a SET x = (SELECT max(x) FROM b) WHERE id = 1":               "a:SELECT, UPDATE b:SELECT",
		"DELETE FROM a WHERE id = 1":                                         "a:SELECT, DELETE",
		"WITH a AS (SELECT 1) SELECT * FROM a, b":                            "b:SELECT",
		"EXPLAIN ANALYZE SELECT * FROM a":                                    "a:SELECT",
		"CREATE TABLE n (id INT64 PRIMARY KEY)":                              ":CREATE",
		"DROP DATABASE x":                                                    "x/:OWNER",
		"CREATE DATABASE x":                                                  "admin",
		"SHOW TABLES":                                                        "",
		"USE x":                                                              "",
	} {
		stmt, err := parser.Parse(sql)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, n := range Needs(stmt) {
			if got != "" {
				got += " "
			}
			switch {
			case n.Admin:
				got += "admin"
			case n.Database != "":
				got += n.Database + "/:" + n.Priv.String()
			default:
				got += n.Table + ":" + n.Priv.String()
			}
		}
		if got != want {
			t.Errorf("%s: needs %q, want %q", sql, got, want)
		}
	}
}
