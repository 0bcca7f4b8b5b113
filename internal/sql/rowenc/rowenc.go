// Package rowenc encodes SQL values into order-preserving key bytes and row
// payloads (SPEC §5). See doc.go and docs/storage.md for the byte layout.
package rowenc

import "github.com/camusdb/camusdb-go/internal/sql/types"

// Signatures are the contract with sql/catalog and sql/exec; bodies are
// being written in this package.

// AppendKey appends the order-preserving encoding of v. desc inverts the
// bytes so the column sorts descending. NULL sorts first ascending (last
// descending). The encoding is self-delimiting: concatenated column
// encodings compare column by column.
func AppendKey(b []byte, v types.Value, desc bool) []byte { panic("rowenc: not yet implemented") }

// DecodeKey decodes one column encoded by AppendKey, returning the rest.
// Invalid bytes return an error, never a panic. The encoding is tagged, so
// the kind is recovered from the bytes.
func DecodeKey(b []byte, desc bool) (v types.Value, rest []byte, err error) {
	panic("rowenc: not yet implemented")
}

// EncodeRow encodes a row payload: schema version + the column values in
// schema order (len(values) columns).
func EncodeRow(b []byte, schemaVersion uint32, values []types.Value) []byte {
	panic("rowenc: not yet implemented")
}

// DecodeRow decodes a payload written by EncodeRow.
func DecodeRow(b []byte) (schemaVersion uint32, values []types.Value, err error) {
	panic("rowenc: not yet implemented")
}
