package client

import (
	"fmt"
	"strings"
)

// ConnConfig is what a connection string names.
type ConnConfig struct {
	Endpoints []string // empty when the string names none
	Database  string   // empty when the string names none
	// User and Password authenticate (client.WithCredentials); empty when
	// the string names none.
	User     string
	Password string
}

// ParseConnectionString parses "Endpoint=http://h1:5095[,http://h2:5096];Database=db"
// (SPEC §7), optionally with ";User=name;Password=secret". Keys are case-insensitive ("Endpoints" is accepted too), pairs
// are separated by ';', endpoints by ',' and empty pairs are ignored. An
// unknown key or a pair without '=' is an error, so typos do not pass silently.
func ParseConnectionString(s string) (ConnConfig, error) {
	var cfg ConnConfig
	for _, pair := range strings.Split(s, ";") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		key, value, ok := strings.Cut(pair, "=")
		if !ok {
			return ConnConfig{}, fmt.Errorf("connection string: %q is not key=value", pair)
		}
		key, value = strings.ToLower(strings.TrimSpace(key)), strings.TrimSpace(value)
		switch key {
		case "endpoint", "endpoints":
			cfg.Endpoints = cfg.Endpoints[:0]
			for _, e := range strings.Split(value, ",") {
				if e = strings.TrimSpace(e); e != "" {
					cfg.Endpoints = append(cfg.Endpoints, e)
				}
			}
			if len(cfg.Endpoints) == 0 {
				return ConnConfig{}, fmt.Errorf("connection string: empty endpoint list")
			}
		case "database":
			cfg.Database = value
		case "user", "username":
			cfg.User = value
		case "password":
			cfg.Password = value
		default:
			return ConnConfig{}, fmt.Errorf("connection string: unknown key %q (want Endpoint, Database, User or Password)", key)
		}
	}
	return cfg, nil
}
