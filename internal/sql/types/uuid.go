package types

import (
	"crypto/rand"
	"encoding/hex"
	"strings"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// UUIDLen is the size of a UUID in bytes. A UUID value's Str holds them.
const UUIDLen = 16

// NewUUID builds a UUID value from its 16 bytes.
func NewUUID(raw [UUIDLen]byte) Value { return Value{Kind: UUID, Str: string(raw[:])} }

// RandomUUID returns a version 4 (random) UUID, as gen_random_uuid().
func RandomUUID() Value {
	var raw [UUIDLen]byte
	_, _ = rand.Read(raw[:]) // crypto/rand.Read never fails (Go 1.24+)
	raw[6] = raw[6]&0x0f | 0x40
	raw[8] = raw[8]&0x3f | 0x80
	return NewUUID(raw)
}

// FormatUUID renders 16 bytes as 8-4-4-4-12 lower-case hex.
func FormatUUID(raw string) string {
	var b [36]byte
	j := 0
	for i := 0; i < len(raw) && i < UUIDLen; i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hexDigits[raw[i]>>4], hexDigits[raw[i]&0xf]
		j += 2
	}
	return string(b[:j])
}

// ParseUUID reads PostgreSQL's UUID input: 32 hex digits, either case,
// optionally in braces, with a hyphen allowed after any group of four
// digits (the standard 8-4-4-4-12 form included). Anything else is
// CADB0414 (22P02) naming the value.
func ParseUUID(s string) (Value, error) {
	bad := func() (Value, error) {
		return Value{}, errcode.New(errcode.InvalidTextRepresentation, "invalid input syntax for type uuid: %q", clip(s))
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") {
		if !strings.HasSuffix(t, "}") {
			return bad()
		}
		t = t[1 : len(t)-1]
	}
	var digits [32]byte
	n := 0
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c == '-' {
			// PostgreSQL allows a hyphen after each group of four digits.
			if n == 0 || n%4 != 0 || i+1 == len(t) || t[i+1] == '-' {
				return bad()
			}
			continue
		}
		if _, ok := unhex(c); !ok || n == 32 {
			return bad()
		}
		digits[n] = c
		n++
	}
	if n != 32 {
		return bad()
	}
	var raw [UUIDLen]byte
	if _, err := hex.Decode(raw[:], digits[:]); err != nil {
		return bad()
	}
	return NewUUID(raw), nil
}
