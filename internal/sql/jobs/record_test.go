package jobs

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Bytes that are not a job record are CADB0014, never a panic.
func FuzzDecodeRecord(f *testing.F) {
	good, _ := encode(&Record{ID: 3, Type: "CREATE INDEX", Status: Running, Payload: []byte(`{"a":1}`)})
	f.Add(good)
	f.Add([]byte{recordFormat})
	f.Add([]byte{2, '{', '}'})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decode(b)
		if err != nil {
			if errcode.Of(err) != errcode.Corruption {
				t.Fatal(err)
			}
			return
		}
		if _, err := encode(r); err != nil {
			t.Fatal(err)
		}
	})
}
