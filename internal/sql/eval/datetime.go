package eval

import (
	"math"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Date/time arithmetic, PostgreSQL's operators:
//
//	DATE ± INT64 → DATE          DATE − DATE → INT64 (days)
//	DATE ± INTERVAL → TIMESTAMP  TIMESTAMP[TZ] ± INTERVAL → same kind
//	TIMESTAMP − TIMESTAMP → INTERVAL (days and time, as PostgreSQL)
//	INTERVAL ± INTERVAL, INTERVAL × number, INTERVAL ÷ number → INTERVAL
//	STRING ± INTERVAL → TIMESTAMPTZ (the string read as a timestamptz, so
//	now() − INTERVAL '1 day' works while now() returns text, SPEC §2.6)

func isTemporal(k types.Kind) bool { return types.IsDatetime(k) || k == types.Interval }

// temporalOperands reports whether an arithmetic on kinds a and b is date/
// time arithmetic (NULL kinds are unknown).
func temporalOperands(a, b types.Kind) bool { return isTemporal(a) || isTemporal(b) }

// temporalArithKind returns the result kind of a op b for date/time
// operands; Null when it depends on an operand of unknown kind; ok=false
// when the operator does not apply.
func temporalArithKind(op arithOp, a, b types.Kind) (types.Kind, bool) {
	if a == types.Null || b == types.Null {
		return types.Null, true
	}
	switch op {
	case opAdd:
		if b == types.Interval || b == types.Int64 && a == types.Date {
			return addKind(a, b)
		}
		return addKind(b, a)
	case opSub:
		switch {
		case a == b && types.IsDatetime(a):
			if a == types.Date {
				return types.Int64, true
			}
			return types.Interval, true
		case a == types.Interval && b != types.Interval:
			return types.Null, false
		}
		return addKind(a, b)
	case opMul:
		if a == types.Interval && isNumeric(b) || b == types.Interval && isNumeric(a) {
			return types.Interval, true
		}
	case opDiv:
		if a == types.Interval && isNumeric(b) {
			return types.Interval, true
		}
	}
	return types.Null, false
}

// addKind is the kind of x + y where y is the INTERVAL or days added.
func addKind(x, y types.Kind) (types.Kind, bool) {
	switch {
	case x == types.Date && y == types.Int64:
		return types.Date, true
	case x == types.Date && y == types.Interval:
		return types.Timestamp, true
	case (x == types.Timestamp || x == types.TimestampTZ || x == types.Interval) && y == types.Interval:
		return x, true
	case x == types.String && y == types.Interval:
		return types.TimestampTZ, true
	}
	return types.Null, false
}

func arithTemporal(op arithOp, a, b types.Value) (types.Value, error) {
	kind, ok := temporalArithKind(op, a.Kind, b.Kind)
	if !ok {
		return types.Value{}, invalid("operator %s cannot be applied to %s and %s", arithSymbols[op], a.Kind, b.Kind)
	}
	switch op {
	case opMul:
		if a.Kind != types.Interval {
			a, b = b, a
		}
		return scaleInterval(a.Interval(), toFloat(b))
	case opDiv:
		f := toFloat(b)
		if f == 0 {
			return types.Value{}, divByZero()
		}
		return scaleInterval(a.Interval(), 1/f)
	}
	if op == opAdd && (a.Kind == types.Interval || a.Kind == types.Int64) && b.Kind != types.Interval {
		a, b = b, a // interval + x is x + interval
	}
	if a.Kind == types.String {
		ts, err := types.ParseTimestampTZ(a.Str)
		if err != nil {
			return types.Value{}, err
		}
		a = ts
	}
	sign := int64(1)
	if op == opSub {
		sign = -1
	}
	switch {
	case kind == types.Int64: // date − date
		return types.NewInt(a.Int - b.Int), nil
	case kind == types.Interval && a.Kind != types.Interval: // ts − ts
		diff := a.Int - b.Int
		if (a.Int^b.Int)&(a.Int^diff) < 0 {
			return types.Value{}, intervalOverflow()
		}
		return types.NewInterval(types.IntervalParts{Days: int32(diff / types.MicrosPerDay), Micros: diff % types.MicrosPerDay}), nil
	case kind == types.Interval: // interval ± interval
		x, y := a.Interval(), b.Interval()
		months := int64(x.Months) + sign*int64(y.Months)
		days := int64(x.Days) + sign*int64(y.Days)
		micros, ok := addInt64(x.Micros, sign*y.Micros)
		if !ok || months != int64(int32(months)) || days != int64(int32(days)) || y.Micros == math.MinInt64 {
			return types.Value{}, intervalOverflow()
		}
		return types.NewInterval(types.IntervalParts{Months: int32(months), Days: int32(days), Micros: micros}), nil
	case kind == types.Date: // date ± days
		days := a.Int + sign*b.Int
		if b.Int > types.MaxDate-types.MinDate || b.Int < types.MinDate-types.MaxDate || !types.InRange(types.NewDate(days)) {
			return types.Value{}, errcode.New(errcode.DatetimeOverflow, "date out of range")
		}
		return types.NewDate(days), nil
	}
	// date/timestamp ± interval
	iv := b.Interval()
	if sign < 0 {
		iv = types.IntervalParts{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}
		if b.Interval().Micros == math.MinInt64 {
			return types.Value{}, timestampOverflow()
		}
	}
	us, err := AddInterval(a.Micros(), iv)
	if err != nil {
		return types.Value{}, err
	}
	return types.Value{Kind: kind, Int: us}, nil
}

// AddInterval adds iv to a timestamp (microseconds since 1970): months
// first (the day clamped to the month's length, as PostgreSQL does), then
// days, then the time. A result outside years 1..9999 is CADB0413.
func AddInterval(us int64, iv types.IntervalParts) (int64, error) {
	if iv.Months != 0 {
		t := types.TimeOfMicros(us)
		y, m, d := t.Date()
		total := int64(y)*12 + int64(m-1) + int64(iv.Months)
		ny, nm := types.FloorDiv(total, 12), total-types.FloorDiv(total, 12)*12
		if ny < 1 || ny > 9999 {
			return 0, timestampOverflow()
		}
		if last := time.Date(int(ny), time.Month(nm+2), 0, 0, 0, 0, 0, time.UTC).Day(); d > last {
			d = last
		}
		t = time.Date(int(ny), time.Month(nm+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
		us = t.UnixMicro()
	}
	// Beyond this many days any result leaves years 1..9999 (and the
	// product could overflow).
	const maxDays = types.MaxDate - types.MinDate + 1
	if iv.Days > maxDays || iv.Days < -maxDays {
		return 0, timestampOverflow()
	}
	us += int64(iv.Days) * types.MicrosPerDay
	r, ok := addInt64(us, iv.Micros)
	if !ok || !types.InRange(types.NewTimestamp(r)) {
		return 0, timestampOverflow()
	}
	return r, nil
}

// scaleInterval multiplies each field by f, carrying fractions of a month
// into days (30 per month) and of a day into microseconds, as PostgreSQL.
func scaleInterval(iv types.IntervalParts, f float64) (types.Value, error) {
	months := float64(iv.Months) * f
	wholeMonths := math.Trunc(months)
	days := float64(iv.Days)*f + (months-wholeMonths)*30
	wholeDays := math.Trunc(days)
	micros := float64(iv.Micros)*f + (days-wholeDays)*float64(types.MicrosPerDay)
	if math.IsNaN(micros) || math.Abs(wholeMonths) > math.MaxInt32 || math.Abs(wholeDays) > math.MaxInt32 || math.Abs(micros) >= 9.2e18 {
		return types.Value{}, intervalOverflow()
	}
	return types.NewInterval(types.IntervalParts{Months: int32(wholeMonths), Days: int32(wholeDays), Micros: int64(math.Round(micros))}), nil
}

func addInt64(x, y int64) (int64, bool) {
	r := x + y
	return r, (x^r)&(y^r) >= 0
}

func negateInterval(v types.Value) (types.Value, error) {
	iv := v.Interval()
	if iv.Months == math.MinInt32 || iv.Days == math.MinInt32 || iv.Micros == math.MinInt64 {
		return types.Value{}, intervalOverflow()
	}
	return types.NewInterval(types.IntervalParts{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}), nil
}

func intervalOverflow() error { return errcode.New(errcode.DatetimeOverflow, "interval out of range") }
func timestampOverflow() error {
	return errcode.New(errcode.DatetimeOverflow, "timestamp out of range")
}
