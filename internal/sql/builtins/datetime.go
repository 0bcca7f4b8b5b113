package builtins

import (
	"math"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
)

// TimestampLayout is the output format of every timestamp-returning
// function: RFC 3339 in UTC with 7 fractional digits.
const TimestampLayout = "2006-01-02T15:04:05.0000000-07:00"

const dateLayout = "2006-01-02"

// FormatTimestamp renders t in TimestampLayout (UTC).
func FormatTimestamp(t time.Time) string { return t.UTC().Format(TimestampLayout) }

// ParseTimestamp reads YYYY-MM-DD (midnight UTC) or an RFC 3339 timestamp
// with Z or a numeric offset (a space or lower-case t may separate date and
// time). A timestamp without zone is an error. The result is UTC.
func ParseTimestamp(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if len(s) == len(dateLayout) {
		t, err := time.Parse(dateLayout, s)
		if err == nil {
			return t, nil
		}
	}
	if len(s) > 10 && (s[10] == ' ' || s[10] == 't') {
		s = s[:10] + "T" + s[11:]
	}
	if strings.HasSuffix(s, "z") {
		s = s[:len(s)-1] + "Z"
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

type timeUnit uint8

const (
	unitYear timeUnit = iota
	unitMonth
	unitDay
	unitHour
	unitMinute
	unitSecond
	unitMillisecond
)

// unitSeconds is the length of the fixed-size units in seconds.
var unitSeconds = [...]int64{unitDay: 86400, unitHour: 3600, unitMinute: 60, unitSecond: 1}

func parseUnit(fn, s string) (timeUnit, error) {
	u := strings.ToLower(strings.TrimSpace(s))
	u = strings.TrimSuffix(u, "s")
	switch u {
	case "year":
		return unitYear, nil
	case "month":
		return unitMonth, nil
	case "day":
		return unitDay, nil
	case "hour":
		return unitHour, nil
	case "minute":
		return unitMinute, nil
	case "second":
		return unitSecond, nil
	case "millisecond":
		return unitMillisecond, nil
	}
	return 0, argError(fn, "unknown unit %q (want year, month, day, hour, minute, second or millisecond)", s)
}

func timeArg(fn string, v types.Value) (time.Time, error) {
	t, err := ParseTimestamp(v.Str)
	if err != nil {
		return time.Time{}, argError(fn, "%q is not a date (YYYY-MM-DD) or an RFC 3339 timestamp with zone", v.Str)
	}
	return t, nil
}

func nowOf(ctx *Context) time.Time {
	if ctx == nil || ctx.Now.IsZero() {
		return time.Now().UTC()
	}
	return ctx.Now.UTC()
}

// Supported years keep the output format fixed-width and parseable.
const minYear, maxYear = 1, 9999

func checkRange(fn string, t time.Time) (types.Value, error) {
	if y := t.Year(); y < minYear || y > maxYear {
		return types.Value{}, argError(fn, "result is outside years %d..%d", minYear, maxYear)
	}
	return types.NewString(FormatTimestamp(t)), nil
}

func dateFuncs() []*Func {
	stable := func(f *Func) *Func {
		f.Volatile, f.StatementStable = true, true
		return f
	}
	return []*Func{
		stable(&Func{Name: "current_timestamp", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				return types.NewString(FormatTimestamp(nowOf(ctx))), nil
			}}),
		stable(&Func{Name: "now", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				return types.NewString(FormatTimestamp(nowOf(ctx))), nil
			}}),
		stable(&Func{Name: "current_date", MinArgs: 0, MaxArgs: 0, Result: types.String,
			Impl: func(ctx *Context, _ []types.Value) (types.Value, error) {
				return types.NewString(nowOf(ctx).Format(dateLayout)), nil
			}}),
		stable(&Func{Name: "unix_timestamp", MinArgs: 0, MaxArgs: 1, Args: []ArgClass{StringArg}, Result: types.Int64,
			Impl: func(ctx *Context, a []types.Value) (types.Value, error) {
				if len(a) == 0 {
					return types.NewInt(nowOf(ctx).Unix()), nil
				}
				t, err := timeArg("unix_timestamp", a[0])
				if err != nil {
					return types.Value{}, err
				}
				return types.NewInt(t.Unix()), nil
			}}),
		{Name: "from_unixtime", MinArgs: 1, MaxArgs: 1, Args: []ArgClass{NumericArg}, Result: types.String,
			Impl: fromUnixtime},
		{Name: "date_add", MinArgs: 3, MaxArgs: 3, Args: []ArgClass{StringArg, IntArg, StringArg}, Result: types.String,
			Impl: dateAdd},
		{Name: "date_diff", MinArgs: 3, MaxArgs: 3, Args: []ArgClass{StringArg, StringArg, StringArg}, Result: types.Int64,
			Impl: dateDiff},
		{Name: "date_part", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, temporalArg}, ResultFn: datePartResult,
			Impl: datePartAny},
		{Name: "date_trunc", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{StringArg, temporalArg}, ResultFn: dateTruncResult,
			Impl: dateTruncAny},
	}
}

// Unix seconds of 0001-01-01 and 10000-01-01, the supported range.
const minUnix, maxUnix = -62135596800, 253402300800

func fromUnixtime(_ *Context, a []types.Value) (types.Value, error) {
	var t time.Time
	if a[0].Kind == types.Int64 {
		secs := a[0].Int
		if secs < minUnix || secs >= maxUnix {
			return types.Value{}, argError("from_unixtime", "%d is out of range", secs)
		}
		t = time.Unix(secs, 0)
	} else {
		f := a[0].Float
		if !finite(f) || f < minUnix || f >= maxUnix {
			return types.Value{}, argError("from_unixtime", "%s is out of range", types.FormatFloat(f))
		}
		secs := math.Floor(f)
		t = time.Unix(int64(secs), int64(math.Round((f-secs)*1e7))*100)
	}
	return checkRange("from_unixtime", t)
}

func addMonths(t time.Time, months int64) (time.Time, bool) {
	const limit = 12 * 20000
	if months > limit || months < -limit {
		return time.Time{}, false
	}
	y, m, d := t.Date()
	total := int64(y)*12 + int64(m-1) + months
	ny, nm := floorDiv(total, 12), floorMod(total, 12)
	if last := daysIn(int(ny), time.Month(nm+1)); d > last {
		d = last
	}
	return time.Date(int(ny), time.Month(nm+1), d, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC), true
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

func dateAdd(_ *Context, a []types.Value) (types.Value, error) {
	t, err := timeArg("date_add", a[0])
	if err != nil {
		return types.Value{}, err
	}
	unit, err := parseUnit("date_add", a[2].Str)
	if err != nil {
		return types.Value{}, err
	}
	n := a[1].Int
	outOfRange := argError("date_add", "result is outside years %d..%d", minYear, maxYear)
	switch unit {
	case unitYear, unitMonth:
		months := n
		if unit == unitYear {
			if n > math.MaxInt64/12 || n < math.MinInt64/12 {
				return types.Value{}, outOfRange
			}
			months = n * 12
		}
		r, ok := addMonths(t, months)
		if !ok {
			return types.Value{}, outOfRange
		}
		return checkRange("date_add", r)
	case unitMillisecond:
		secs, ms := n/1000, n%1000
		if secs > maxUnix-minUnix || secs < minUnix-maxUnix {
			return types.Value{}, outOfRange
		}
		return checkRange("date_add", time.Unix(t.Unix()+secs, int64(t.Nanosecond())+ms*1e6))
	}
	per := unitSeconds[unit]
	if n > (maxUnix-minUnix)/per || n < (minUnix-maxUnix)/per {
		return types.Value{}, outOfRange
	}
	return checkRange("date_add", time.Unix(t.Unix()+n*per, int64(t.Nanosecond())))
}

func dateDiff(_ *Context, a []types.Value) (types.Value, error) {
	start, err := timeArg("date_diff", a[0])
	if err != nil {
		return types.Value{}, err
	}
	end, err := timeArg("date_diff", a[1])
	if err != nil {
		return types.Value{}, err
	}
	unit, err := parseUnit("date_diff", a[2].Str)
	if err != nil {
		return types.Value{}, err
	}
	switch unit {
	case unitYear, unitMonth:
		months := int64(end.Year()-start.Year())*12 + int64(end.Month()-start.Month())
		rest := compareWithinMonth(end, start)
		if months > 0 && rest < 0 {
			months--
		} else if months < 0 && rest > 0 {
			months++
		}
		if unit == unitYear {
			return types.NewInt(months / 12), nil
		}
		return types.NewInt(months), nil
	}
	// end - start as whole seconds plus nanoseconds of the same sign.
	secs := end.Unix() - start.Unix()
	nanos := int64(end.Nanosecond() - start.Nanosecond())
	if secs > 0 && nanos < 0 {
		secs, nanos = secs-1, nanos+1e9
	} else if secs < 0 && nanos > 0 {
		secs, nanos = secs+1, nanos-1e9
	}
	if unit == unitMillisecond {
		return types.NewInt(secs*1000 + nanos/1e6), nil
	}
	return types.NewInt(secs / unitSeconds[unit]), nil
}

// compareWithinMonth orders the day-and-time parts of a and b.
func compareWithinMonth(a, b time.Time) int {
	pa := [...]int{a.Day(), a.Hour(), a.Minute(), a.Second(), a.Nanosecond()}
	pb := [...]int{b.Day(), b.Hour(), b.Minute(), b.Second(), b.Nanosecond()}
	for i := range pa {
		if pa[i] != pb[i] {
			if pa[i] < pb[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

func datePart(_ *Context, a []types.Value) (types.Value, error) {
	unit, err := parseUnit("date_part", a[0].Str)
	if err != nil {
		return types.Value{}, err
	}
	t, err := timeArg("date_part", a[1])
	if err != nil {
		return types.Value{}, err
	}
	var p int
	switch unit {
	case unitYear:
		p = t.Year()
	case unitMonth:
		p = int(t.Month())
	case unitDay:
		p = t.Day()
	case unitHour:
		p = t.Hour()
	case unitMinute:
		p = t.Minute()
	case unitSecond:
		p = t.Second()
	case unitMillisecond:
		p = t.Nanosecond() / 1e6
	}
	return types.NewInt(int64(p)), nil
}

func dateTrunc(_ *Context, a []types.Value) (types.Value, error) {
	unit, err := parseUnit("date_trunc", a[0].Str)
	if err != nil {
		return types.Value{}, err
	}
	t, err := timeArg("date_trunc", a[1])
	if err != nil {
		return types.Value{}, err
	}
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	ns := t.Nanosecond()
	switch unit {
	case unitYear:
		m, d, hh, mm, ss, ns = 1, 1, 0, 0, 0, 0
	case unitMonth:
		d, hh, mm, ss, ns = 1, 0, 0, 0, 0
	case unitDay:
		hh, mm, ss, ns = 0, 0, 0, 0
	case unitHour:
		mm, ss, ns = 0, 0, 0
	case unitMinute:
		ss, ns = 0, 0
	case unitSecond:
		ns = 0
	case unitMillisecond:
		ns -= ns % 1e6
	}
	return types.NewString(FormatTimestamp(time.Date(y, m, d, hh, mm, ss, ns, time.UTC))), nil
}
