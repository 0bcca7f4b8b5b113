package auth

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"testing"
)

func pbkdf2Key(t *testing.T, password string, salt []byte, iterations int) []byte {
	t.Helper()
	k, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
