package mvcc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/camusdb/camusdb-go/internal/hlc"
	"github.com/camusdb/camusdb-go/internal/storage"
)

// TestForEachEntry lays one of each kind of entry (and a key with a zero
// byte) and checks the decoded dump, its order and that the neighbouring
// partition stays out of it.
func TestForEachEntry(t *testing.T) {
	e := openEngine(t)
	b := e.NewBatch()
	id := TxnID{1, 2, 3}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(PutVersion(b, 3, []byte("a"), ts(5), []byte("v5"), false))
	must(PutVersion(b, 3, []byte("a"), ts(9), nil, true))
	must(PutVersion(b, 3, []byte("a\x00b"), ts(2), []byte("z"), false))
	must(PutIntent(b, 3, []byte("a"), &Intent{TxnID: id, TS: ts(11), Home: 3, CoordNode: 1, CoordEpoch: 4, WriteWall: 77, Value: []byte("new")}))
	must(PutTxnRecord(b, 3, id, &TxnRecord{Status: TxnAborted}))
	must(PutVersion(b, 4, []byte("a"), ts(1), []byte("other"), false))
	must(PutGCThreshold(b, 3, ts(1)))
	must(b.Commit(false))

	var got []string
	must(ForEachEntry(e, 3, func(en Entry) error {
		switch en.Kind {
		case EntryVersion:
			got = append(got, fmt.Sprintf("%s %q@%d del=%v %q", en.Kind, en.Key, en.TS.WallTime, en.Deleted, en.Value))
		case EntryIntent:
			in := en.Intent
			got = append(got, fmt.Sprintf("%s %q txn=%x ts=%d home=%d epoch=%d %q", en.Kind, en.Key, in.TxnID[:3], in.TS.WallTime, in.Home, in.CoordEpoch, in.Value))
		case EntryTxnRecord:
			got = append(got, fmt.Sprintf("%s %x %s", en.Kind, en.TxnID[:3], en.Record.Status))
		case EntryGCThreshold:
			got = append(got, fmt.Sprintf("%s %d", en.Kind, en.TS.WallTime))
		}
		return nil
	}))
	want := []string{
		`gc-threshold 1`,
		`intent "a" txn=010203 ts=11 home=3 epoch=4 "new"`,
		`version "a"@9 del=true ""`,
		`version "a"@5 del=false "v5"`,
		`version "a\x00b"@2 del=false "z"`,
		`record 010203 ABORTED`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("dump:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	stop := errors.New("stop")
	n := 0
	if err := ForEachEntry(e, 3, func(Entry) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Fatalf("callback error not returned: %v after %d", err, n)
	}
}

func TestDecodeEntryRejectsGarbage(t *testing.T) {
	good := VersionKey(3, []byte("a"), hlc.Timestamp{WallTime: 1})
	for name, kv := range map[string][2][]byte{
		"empty key":        {nil, nil},
		"not data":         {append([]byte{storage.PrefixRaft}, good[1:]...), encodeVersion([]byte("x"), false)},
		"unknown tag":      {append(storage.PartitionPrefix(storage.PrefixData, 3), 'q'), nil},
		"short record key": {append(storage.PartitionPrefix(storage.PrefixData, 3), txnRecordTag, 1), EncodeTxnRecord(&TxnRecord{})},
		"bad version":      {good, []byte("?")},
		"bad intent":       {IntentKey(3, []byte("a")), []byte{intentTag}},
		"bad record":       {TxnRecordKey(3, TxnID{}), []byte{recordTag}},
		"bad gc threshold": {GCThresholdKey(3), []byte{1}},
		"long gc key":      {append(GCThresholdKey(3), 0), hlc.Timestamp{}.AppendEncode(nil)},
		"truncated ts":     {good[:len(good)-3], encodeVersion(nil, true)},
	} {
		if _, err := DecodeEntry(kv[0], kv[1]); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}
