package rowenc

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

var allKinds = []types.Kind{types.OID, types.Int64, types.String, types.Bool, types.Float64, types.Bytes,
	types.Date, types.Timestamp, types.TimestampTZ, types.Interval, types.Numeric, types.UUID, types.JSONB}

// interestingInts, interestingFloats and interestingStrings are the edge
// cases random generation mixes in, because uniform random values almost
// never hit them.
var interestingInts = []int64{math.MinInt64, math.MinInt64 + 1, -256, -255, -1, 0, 1, 127, 128, 255, 256, math.MaxInt64 - 1, math.MaxInt64}

var interestingFloats = []float64{
	math.Inf(-1), -math.MaxFloat64, -1e300, -1.5, -1, -math.SmallestNonzeroFloat64,
	math.Copysign(0, -1), 0, math.SmallestNonzeroFloat64, 2.2250738585072014e-308,
	1, 1.5, 1e300, math.MaxFloat64, math.Inf(1), math.NaN(),
	math.Float64frombits(0xFFF8000000000001), // negative NaN with payload
	math.Float64frombits(0x7FF0000000000001), // signalling NaN
}

var interestingStrings = []string{"", "\x00", "\x00\x00", "\x00\x01", "\x00\xff", "\x01", "a", "a\x00", "a\x00b", "a\x01", "ab", "b", "\xff", "\xff\x00", "\xff\xff", "héllo"}

func randInt(r *rand.Rand) int64 {
	switch r.IntN(3) {
	case 0:
		return interestingInts[r.IntN(len(interestingInts))]
	case 1:
		return r.Int64N(512) - 256
	}
	return int64(r.Uint64())
}

func randFloat(r *rand.Rand) float64 {
	switch r.IntN(4) {
	case 0:
		return interestingFloats[r.IntN(len(interestingFloats))]
	case 1:
		return float64(r.IntN(20) - 10)
	case 2:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	}
	return math.Float64frombits(r.Uint64())
}

func randString(r *rand.Rand) string {
	if r.IntN(3) == 0 {
		return interestingStrings[r.IntN(len(interestingStrings))]
	}
	// A small alphabet with the bytes that matter to the escaping, so
	// shared prefixes and NUL bytes are common.
	alphabet := []byte{0x00, 0x01, 'a', 'b', 0xfe, 0xff}
	b := make([]byte, r.IntN(8))
	for i := range b {
		b[i] = alphabet[r.IntN(len(alphabet))]
	}
	return string(b)
}

func randOID(r *rand.Rand) types.Value {
	var raw [types.OIDLen]byte
	for i := range raw {
		// Few distinct bytes so equal prefixes are common.
		raw[i] = []byte{0x00, 0x7f, 0x80, 0xff}[r.IntN(4)]
	}
	return types.NewOID(raw)
}

// randValue returns a random value of kind k, or NULL one time in eight.
func randValue(r *rand.Rand, k types.Kind) types.Value {
	if r.IntN(8) == 0 {
		return types.NullValue
	}
	switch k {
	case types.Int64:
		return types.NewInt(randInt(r))
	case types.Float64:
		return types.NewFloat(randFloat(r))
	case types.Bool:
		return types.NewBool(r.IntN(2) == 1)
	case types.String:
		return types.NewString(randString(r))
	case types.OID:
		return randOID(r)
	case types.Bytes:
		return types.NewBytes(randString(r))
	case types.Date, types.Timestamp, types.TimestampTZ:
		return types.Value{Kind: k, Int: randInt(r)}
	case types.Interval:
		small := func() int32 { return int32(r.IntN(5)) - 2 }
		iv := types.IntervalParts{Months: small(), Days: small(), Micros: int64(r.IntN(5)-2) * types.MicrosPerDay}
		switch r.IntN(4) {
		case 0:
			iv.Months, iv.Days = int32(r.Uint32()), int32(r.Uint32())
		case 1:
			iv.Micros = randInt(r)
		case 2:
			iv.Micros += int64(r.IntN(3) - 1)
		}
		return types.NewInterval(iv)
	case types.Numeric:
		return randNumeric(r)
	case types.UUID:
		var raw [types.UUIDLen]byte
		for i := range raw {
			raw[i] = []byte{0x00, 0x7f, 0x80, 0xff}[r.IntN(4)]
		}
		return types.NewUUID(raw)
	case types.JSONB:
		docs := []string{`null`, `1`, `"a"`, `[]`, `{}`, `[1, "a\u0000"]`, `{"a": 1}`, `{"a": [true, null]}`, `{"b": 1, "aa": 2}`}
		v, err := types.ParseJSONB(docs[r.IntN(len(docs))])
		if err != nil {
			panic(err)
		}
		return v
	}
	panic(fmt.Sprintf("randValue: kind %v", k))
}

func randKind(r *rand.Rand) types.Kind { return allKinds[r.IntN(len(allKinds))] }

// keyCanonical is what a key column decodes to: -0 becomes +0 and every NaN
// becomes the same NaN.
func keyCanonical(v types.Value) types.Value {
	if v.Kind == types.Float64 && (v.Float == 0 || v.Float != v.Float) {
		if v.Float == 0 {
			return types.NewFloat(0)
		}
		return types.NewFloat(math.NaN())
	}
	return v
}

// identical compares values exactly: floats by bits, only the field of the
// kind.
func identical(a, b types.Value) bool {
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case types.Null:
		return true
	case types.Int64:
		return a.Int == b.Int
	case types.Float64:
		return math.Float64bits(a.Float) == math.Float64bits(b.Float)
	case types.Bool:
		return a.Bool == b.Bool
	}
	return a.Str == b.Str
}

// keyEqual compares values as key columns do: -0 == +0, NaN == NaN.
func keyEqual(a, b types.Value) bool {
	a, b = keyCanonical(a), keyCanonical(b)
	if a.Kind == types.Float64 && b.Kind == types.Float64 && a.Float != a.Float {
		return b.Float != b.Float
	}
	return identical(a, b)
}

// sqlCompare is types.Compare for values of one column (one kind or NULL).
func sqlCompare(a, b types.Value) int {
	c, ok := types.Compare(a, b)
	if !ok {
		panic(fmt.Sprintf("sqlCompare: incomparable %v and %v", a, b))
	}
	return c
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}

func describe(v types.Value) string {
	switch v.Kind {
	case types.Float64:
		return fmt.Sprintf("FLOAT64(%v bits=%016x)", v.Float, math.Float64bits(v.Float))
	case types.String:
		return fmt.Sprintf("STRING(%q)", v.Str)
	}
	return fmt.Sprintf("%v(%v)", v.Kind, v)
}

// bytesAllocated returns how many heap bytes f allocates (approximately:
// the test's own goroutine is the only one running).
// bytesAllocated is the fewest bytes the process allocated around one call
// of f, over a few calls: TotalAlloc counts every goroutine's allocations,
// so a single sample can include the runtime's or another test's.
func bytesAllocated(f func()) uint64 {
	least := uint64(1<<64 - 1)
	for range 5 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// randNumeric returns a NUMERIC with few distinct digits, so equal values
// of different scales and shared prefixes are common.
func randNumeric(r *rand.Rand) types.Value {
	var b []byte
	if r.IntN(2) == 0 {
		b = append(b, '-')
	}
	for range r.IntN(4) {
		b = append(b, "0159"[r.IntN(4)])
	}
	if len(b) == 0 || b[len(b)-1] == '-' {
		b = append(b, '0')
	}
	if r.IntN(2) == 0 {
		b = append(b, '.')
		for range 1 + r.IntN(4) {
			b = append(b, "0159"[r.IntN(4)])
		}
	}
	if r.IntN(8) == 0 {
		b = append(b, []byte("e+30")...)
	}
	v, err := types.ParseNumeric(string(b))
	if err != nil {
		panic(err)
	}
	return v
}
