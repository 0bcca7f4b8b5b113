package server

import (
	"encoding/json"
	"testing"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// Values of every kind after FLOAT64 cross the node-to-node wire as their
// text and come back identical, as parameters and as result cells.
func TestWireValueRoundTripsNewKinds(t *testing.T) {
	mustText := func(k types.Kind, s string) types.Value {
		v, err := types.ParseText(k, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, v := range []types.Value{
		types.NewBytes("\x00\xff"),
		mustText(types.Date, "2024-02-29"),
		mustText(types.Timestamp, "2024-02-29 13:14:15.000001"),
		mustText(types.TimestampTZ, "1969-12-31 23:59:59.5+00"),
		mustText(types.Interval, "-1 years -2 mons 3 days -00:00:00.000001"),
		mustText(types.Numeric, "-12345678901234567890.1230"),
		mustText(types.UUID, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
		mustText(types.JSONB, `{"a": [1, 2.50], "bb": null}`),
	} {
		b, err := appendWireValue(nil, v)
		if err != nil {
			t.Fatalf("%s: %v", v.Kind, err)
		}
		var c wireCell
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatalf("%s: %s: %v", v.Kind, b, err)
		}
		got, err := c.value()
		if err != nil || got != v {
			t.Errorf("%s: %s came back as %v (%v)", v.Kind, b, got, err)
		}
	}
	bad := wireCell{Type: types.Date}
	if _, err := bad.value(); err == nil {
		t.Error("a DATE cell without strValue was accepted")
	}
}
