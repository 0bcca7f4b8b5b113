package privilege

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// MinIterations is the lowest SCRAM iteration count accepted (RFC 7677).
const MinIterations = 4096

// DefaultIterations is the iteration count of new verifiers.
const DefaultIterations = 4096

// saltLen is the length of a new verifier's random salt.
const saltLen = 16

// Verifier is a SCRAM-SHA-256 password verifier: what the server keeps
// instead of the password (RFC 5802 §3).
type Verifier struct {
	Salt       []byte
	Iterations int
	StoredKey  []byte // H(ClientKey)
	ServerKey  []byte // HMAC(SaltedPassword, "Server Key")
}

// ErrBadVerifier reports a stored verifier that cannot be parsed.
var ErrBadVerifier = errors.New("privilege: malformed SCRAM verifier")

// NewVerifier derives a verifier for password with a fresh random salt.
func NewVerifier(password string) (Verifier, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return Verifier{}, err
	}
	return DeriveVerifier(password, salt, DefaultIterations)
}

// DeriveVerifier derives the verifier of password for a given salt and
// iteration count (iterations >= MinIterations).
func DeriveVerifier(password string, salt []byte, iterations int) (Verifier, error) {
	if iterations < MinIterations {
		return Verifier{}, fmt.Errorf("privilege: SCRAM iteration count %d is below %d", iterations, MinIterations)
	}
	salted, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return Verifier{}, err
	}
	clientKey := HMAC(salted, []byte("Client Key"))
	stored := sha256.Sum256(clientKey)
	return Verifier{
		Salt:       append([]byte(nil), salt...),
		Iterations: iterations,
		StoredKey:  stored[:],
		ServerKey:  HMAC(salted, []byte("Server Key")),
	}, nil
}

// HMAC is HMAC-SHA-256(key, msg).
func HMAC(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// String renders the verifier as PostgreSQL does:
// SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey> (base64).
func (v Verifier) String() string {
	enc := base64.StdEncoding.EncodeToString
	return fmt.Sprintf("SCRAM-SHA-256$%d:%s$%s:%s", v.Iterations, enc(v.Salt), enc(v.StoredKey), enc(v.ServerKey))
}

// ParseVerifier parses the String form; ErrBadVerifier when malformed.
func ParseVerifier(s string) (Verifier, error) {
	rest, ok := strings.CutPrefix(s, "SCRAM-SHA-256$")
	if !ok {
		return Verifier{}, ErrBadVerifier
	}
	params, keys, ok := strings.Cut(rest, "$")
	if !ok {
		return Verifier{}, ErrBadVerifier
	}
	iterText, saltText, ok1 := strings.Cut(params, ":")
	storedText, serverText, ok2 := strings.Cut(keys, ":")
	if !ok1 || !ok2 {
		return Verifier{}, ErrBadVerifier
	}
	iterations, err := strconv.Atoi(iterText)
	if err != nil || iterations < MinIterations || iterations > 1<<24 {
		return Verifier{}, ErrBadVerifier
	}
	dec := base64.StdEncoding.DecodeString
	salt, err1 := dec(saltText)
	stored, err2 := dec(storedText)
	server, err3 := dec(serverText)
	if err1 != nil || err2 != nil || err3 != nil || len(salt) == 0 ||
		len(stored) != sha256.Size || len(server) != sha256.Size {
		return Verifier{}, ErrBadVerifier
	}
	return Verifier{Salt: salt, Iterations: iterations, StoredKey: stored, ServerKey: server}, nil
}

// CheckPassword reports whether password matches v, comparing in constant
// time. It pays the full PBKDF2 cost; callers cache successes.
func (v Verifier) CheckPassword(password string) bool {
	other, err := DeriveVerifier(password, v.Salt, v.Iterations)
	if err != nil {
		return false
	}
	return hmac.Equal(other.StoredKey, v.StoredKey) && hmac.Equal(other.ServerKey, v.ServerKey)
}
