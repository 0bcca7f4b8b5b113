package session

import (
	"reflect"
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestSettingsTransactionsAndReports(t *testing.T) {
	s, err := NewSettings(SettingsConfig{ServerVersion: "16.4", User: "ann", Startup: map[string]string{"application_name": "app", "nonsense": "x"}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(name string) string {
		t.Helper()
		v, err := s.Get(name)
		if err != nil {
			t.Fatalf("Get(%s): %v", name, err)
		}
		return v
	}
	if get("server_version_num") != "160000" || get("SESSION_AUTHORIZATION") != "ann" || get("application_name") != "app" {
		t.Fatal("defaults from the config")
	}
	if _, err := s.Get("nonsense"); errcode.Of(err) != errcode.UnknownSetting {
		t.Fatalf("unknown start-up names are not settings: %v", err)
	}

	// A committed block keeps its SET; SET LOCAL ends with the block.
	s.BeginTxn()
	if _, err := s.Set("TimeZone", "Asia/Tokyo", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Set("application_name", "inner", true); err != nil {
		t.Fatal(err)
	}
	if get("application_name") != "inner" {
		t.Fatal("SET LOCAL not visible inside the block")
	}
	s.EndTxn(true)
	if get("timezone") != "Asia/Tokyo" || get("application_name") != "app" {
		t.Fatalf("after commit: %s %s", get("timezone"), get("application_name"))
	}
	want := []SettingValue{{"application_name", "app"}, {"TimeZone", "Asia/Tokyo"}} // by lower-case name
	if got := s.TakeReports(); !reflect.DeepEqual(got, want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
	if got := s.TakeReports(); got != nil {
		t.Fatalf("reports are taken once: %v", got)
	}

	// A rolled-back block undoes its SETs and reports the old values.
	s.BeginTxn()
	if _, err := s.Set("TimeZone", "UTC", false); err != nil {
		t.Fatal(err)
	}
	s.EndTxn(false)
	if get("TimeZone") != "Asia/Tokyo" {
		t.Fatal("rollback did not undo SET")
	}
	if got := s.TakeReports(); !reflect.DeepEqual(got, []SettingValue{{"TimeZone", "Asia/Tokyo"}}) {
		t.Fatalf("reports after rollback %v", got)
	}

	// SET LOCAL outside a block: a notice, no effect (as PostgreSQL warns).
	if _, err := s.Set("application_name", "x", true); err != nil || get("application_name") != "app" {
		t.Fatalf("SET LOCAL outside a block: %v", err)
	}
	if n := s.TakeNotices(); len(n) != 1 {
		t.Fatalf("notices %q", n)
	}

	// RESET goes back to the start-up value; RESET ALL resets custom ones.
	if _, err := s.Set("app.tenant", "7", false); err != nil {
		t.Fatal(err)
	}
	if err := s.Reset("TimeZone"); err != nil || get("TimeZone") != "UTC" {
		t.Fatalf("RESET TimeZone: %v", err)
	}
	s.ResetAll()
	if _, err := s.Get("app.tenant"); errcode.Of(err) != errcode.UnknownSetting {
		t.Fatalf("custom setting after RESET ALL: %v", err)
	}
	for _, bad := range []struct{ name, value string }{
		{"server_version", "1"}, {"client_encoding", "LATIN1"}, {"nope", "1"}, {".x", "1"}, {"extra_float_digits", "x"},
	} {
		if _, err := s.Set(bad.name, bad.value, false); err == nil {
			t.Errorf("SET %s = %s accepted", bad.name, bad.value)
		}
	}
}

// Every setting in the table has a canonical default its own check
// accepts unchanged, and names are unique ignoring case.
func TestSettingDefsConsistent(t *testing.T) {
	seen := map[string]bool{}
	for _, d := range settingDefs {
		key := d.name
		for i := 0; i < len(key); i++ {
			if key[i] >= 'A' && key[i] <= 'Z' {
				key = key[:i] + string(key[i]+'a'-'A') + key[i+1:]
			}
		}
		if seen[key] {
			t.Errorf("duplicate setting %q", d.name)
		}
		seen[key] = true
		if d.check == nil || d.value == "" {
			continue
		}
		if got, _, err := d.check(d.value); err != nil || got != d.value {
			t.Errorf("%s: default %q checks as %q, %v", d.name, d.value, got, err)
		}
	}
}
