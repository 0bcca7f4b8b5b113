// Package rowenc turns SQL values into bytes and back: order-preserving key
// encodings for primary keys and index keys, and compact row payloads.
// The exact byte layout is documented in docs/storage.md; this comment is
// the contract.
//
// # Key encoding
//
// AppendKey encodes one column value so that, for values of one column
// (one kind, plus NULL), bytes.Compare of the encodings agrees with
// types.Compare of the values. Every encoding starts with a tag byte naming
// its kind and is self-delimiting, so a composite key is just the
// concatenation of its column encodings and compares column by column:
//
//	prefix := kvpb.RowPrefix(dbID, tableID)
//	key := rowenc.EncodeKeyValues(prefix, pk, desc)
//	vals, rest, err := rowenc.DecodeKeyValues(key[len(prefix):], len(pk), desc)
//
// A descending column has every byte of its ascending encoding inverted
// (tag and string terminators included), so it sorts in reverse and NULL
// sorts last.
//
// Guarantees:
//   - NULL sorts before every non-NULL value ascending, after it descending.
//   - FLOAT64 sorts NaN first (after NULL), then -Inf … +Inf. -0 and +0
//     compare equal in SQL, so they share one encoding (that of +0) and a
//     key column never distinguishes them; all NaNs share one encoding too.
//     A float decoded from a key is therefore canonical (+0, math.NaN()).
//   - STRING values may contain any bytes (0x00 included); a string sorts
//     before every string it is a proper prefix of.
//   - Decoding is strict: DecodeKey accepts exactly the byte strings that
//     AppendKey produces, so re-encoding a decoded value reproduces the
//     consumed bytes. Anything else is an error wrapping ErrCorrupt.
//
// Not guaranteed: values of different kinds order by their tag, not
// numerically (an INT64 1 and a FLOAT64 0.5 in one key column do not sort
// by value). A column has one kind, so the SQL layer never relies on it.
//
// # Row payload
//
// EncodeRow writes the schema version, the column count and each column as
// a tag plus a compact value (zig-zag varint integers, 8-byte floats with
// their exact bits, length-prefixed strings). DecodeRow is strict and
// bounded: a truncated or garbage payload returns an error wrapping
// ErrCorrupt, never panics, and never allocates more than a small multiple
// of the input length however large a length field claims to be. Row floats
// keep their exact bits (-0 stays -0).
//
// # Errors and panics
//
// Decoders return errors wrapping ErrCorrupt; the SQL/session boundary maps
// them to CADB0014 (errcode.Corruption). Encoders take well-formed values
// (Kind is one of the types constants; an OID holds exactly types.OIDLen
// bytes): anything else is a programming error and panics. Code that builds
// values from untrusted input can check them first with CheckValue.
//
// Returned values never alias the input slice, so decoding from an
// iterator's key or value buffer is safe after the iterator moves.
package rowenc
