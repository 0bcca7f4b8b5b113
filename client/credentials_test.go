package client_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/camusdb/camusdb-go/client"
)

func TestWithCredentialsSendsBasicAuth(t *testing.T) {
	var gotUser, gotPassword string
	var gotOK bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotUser, gotPassword, gotOK = r.BasicAuth()
		if !gotOK {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"status":"failed","code":"CADB0020","message":"authentication required"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	defer srv.Close()

	anon := client.New([]string{srv.URL})
	defer anon.Close()
	err := anon.ExecDDL(context.Background(), "", "CREATE DATABASE x")
	if client.CodeOf(err) != "CADB0020" {
		t.Fatalf("without credentials: %v", err)
	}
	c := client.New([]string{srv.URL}, client.WithCredentials("app", "p:w"))
	defer c.Close()
	if err := c.ExecDDL(context.Background(), "", "CREATE DATABASE x"); err != nil {
		t.Fatal(err)
	}
	if !gotOK || gotUser != "app" || gotPassword != "p:w" {
		t.Fatalf("basic auth %v %q %q", gotOK, gotUser, gotPassword)
	}
	cfg, err := client.ParseConnectionString("Endpoint=http://h:1;Database=d;User=app;Password=pw")
	if err != nil || cfg.User != "app" || cfg.Password != "pw" {
		t.Fatalf("connection string: %+v %v", cfg, err)
	}
}
