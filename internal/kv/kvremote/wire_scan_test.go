package kvremote

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/mvcc"
)

// Scan options survive the wire, NonBlocking included (a trailing byte
// only when set).
func TestScanOptionsRoundTrip(t *testing.T) {
	own := mvcc.TxnID{9}
	for _, opts := range []mvcc.ScanOptions{
		{},
		{Reverse: true, MaxKeys: 7, Own: &own, Uncertainty: hlc.Timestamp{WallTime: 5, Logical: 1}},
		{MaxKeys: 3, NonBlocking: true},
		{Own: &own, Uncertainty: hlc.Timestamp{WallTime: 8}, NonBlocking: true},
	} {
		e := &encoder{}
		encodeScanOptions(e, opts)
		d := &decoder{b: e.b}
		got := decodeScanOptions(d)
		if err := d.done(); err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		if got.Reverse != opts.Reverse || got.MaxKeys != opts.MaxKeys || got.Uncertainty != opts.Uncertainty ||
			got.NonBlocking != opts.NonBlocking || (got.Own == nil) != (opts.Own == nil) || (got.Own != nil && *got.Own != *opts.Own) {
			t.Fatalf("sent %+v, decoded %+v", opts, got)
		}
	}
}
