package builtins

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// The date/time functions on DATE, TIMESTAMP, TIMESTAMPTZ and INTERVAL
// values (PostgreSQL's). date_part and date_trunc also keep their SPEC
// §2.6 behaviour on STRING arguments (datetime.go).

// datePartResult: date_part on a STRING is the INT64 of SPEC §2.6; on a
// typed value it is FLOAT64, as PostgreSQL's date_part (double precision).
func datePartResult(args []types.Kind) types.Kind {
	if len(args) < 2 {
		return types.Null
	}
	switch k := args[1]; {
	case k == types.String:
		return types.Int64
	case types.IsDatetime(k) || k == types.Interval:
		return types.Float64
	}
	return types.Null
}

// dateTruncResult: STRING stays STRING (SPEC §2.6); a DATE truncates to a
// TIMESTAMP; TIMESTAMP and TIMESTAMPTZ keep their kind.
func dateTruncResult(args []types.Kind) types.Kind {
	if len(args) < 2 {
		return types.Null
	}
	switch k := args[1]; k {
	case types.String:
		return types.String
	case types.Date:
		return types.Timestamp
	case types.Timestamp, types.TimestampTZ:
		return k
	}
	return types.Null
}

func datePartAny(ctx *Context, a []types.Value) (types.Value, error) {
	if a[1].Kind == types.String {
		return datePart(ctx, a)
	}
	field := strings.ToLower(strings.TrimSpace(a[0].Str))
	if a[1].Kind == types.Interval {
		return intervalPart(field, a[1].Interval())
	}
	us := a[1].Micros()
	t := types.TimeOfMicros(us)
	frac := float64(types.FloorMod(us, types.MicrosPerSecond))
	var f float64
	switch strings.TrimSuffix(field, "s") {
	case "year":
		f = float64(t.Year())
	case "month", "mon":
		f = float64(t.Month())
	case "day":
		f = float64(t.Day())
	case "hour":
		f = float64(t.Hour())
	case "minute", "min":
		f = float64(t.Minute())
	case "second", "sec":
		f = float64(t.Second()) + frac/1e6
	case "millisecond":
		f = float64(t.Second())*1e3 + frac/1e3
	case "microsecond":
		f = float64(t.Second())*1e6 + frac
	case "quarter":
		f = float64((t.Month()-1)/3 + 1)
	case "week":
		_, w := t.ISOWeek()
		f = float64(w)
	case "isoyear":
		y, _ := t.ISOWeek()
		f = float64(y)
	case "dow":
		f = float64(t.Weekday())
	case "isodow":
		f = float64((int(t.Weekday())+6)%7 + 1)
	case "doy":
		f = float64(t.YearDay())
	case "decade":
		f = math.Floor(float64(t.Year()) / 10)
	case "century":
		f = math.Floor(float64(t.Year()-1)/100) + 1
	case "millennium", "millennia", "millenniu":
		f = math.Floor(float64(t.Year()-1)/1000) + 1
	case "epoch":
		f = float64(us) / 1e6
	case "timezone", "timezone_hour", "timezone_minute":
		f = 0
	default:
		return types.Value{}, argError("date_part", "unit %q is not recognized for %s", a[0].Str, a[1].Kind)
	}
	return types.NewFloat(f), nil
}

func intervalPart(field string, iv types.IntervalParts) (types.Value, error) {
	us := iv.Micros
	var f float64
	switch strings.TrimSuffix(field, "s") {
	case "year":
		f = float64(iv.Months / 12)
	case "month", "mon":
		f = float64(iv.Months % 12)
	case "day":
		f = float64(iv.Days)
	case "hour":
		f = float64(us / types.MicrosPerHour)
	case "minute", "min":
		f = float64(us % types.MicrosPerHour / types.MicrosPerMinute)
	case "second", "sec":
		f = float64(us%types.MicrosPerMinute) / 1e6
	case "millisecond":
		f = float64(us%types.MicrosPerMinute) / 1e3
	case "microsecond":
		f = float64(us % types.MicrosPerMinute)
	case "epoch":
		f = float64(iv.Months)/12*365.25*86400 + float64(iv.Days)*86400 + float64(us)/1e6
	default:
		return types.Value{}, argError("date_part", "unit %q is not recognized for INTERVAL", field)
	}
	return types.NewFloat(f), nil
}

func dateTruncAny(ctx *Context, a []types.Value) (types.Value, error) {
	if a[1].Kind == types.String {
		return dateTrunc(ctx, a)
	}
	if !types.IsDatetime(a[1].Kind) {
		return types.Value{}, argError("date_trunc", "argument 2 must be a STRING, DATE, TIMESTAMP or TIMESTAMPTZ, not %s", a[1].Kind)
	}
	kind := a[1].Kind
	if kind == types.Date {
		kind = types.Timestamp
	}
	t := types.TimeOfMicros(a[1].Micros())
	y, m, d := t.Date()
	hh, mm, ss := t.Clock()
	us := t.Nanosecond() / 1000
	switch strings.TrimSuffix(strings.ToLower(strings.TrimSpace(a[0].Str)), "s") {
	case "microsecond":
	case "millisecond":
		us -= us % 1000
	case "second":
		us = 0
	case "minute":
		ss, us = 0, 0
	case "hour":
		mm, ss, us = 0, 0, 0
	case "day":
		hh, mm, ss, us = 0, 0, 0, 0
	case "week":
		d -= (int(t.Weekday()) + 6) % 7 // back to Monday
		hh, mm, ss, us = 0, 0, 0, 0
	case "month":
		d, hh, mm, ss, us = 1, 0, 0, 0, 0
	case "quarter":
		m, d, hh, mm, ss, us = (m-1)/3*3+1, 1, 0, 0, 0, 0
	case "year":
		m, d, hh, mm, ss, us = 1, 1, 0, 0, 0, 0
	case "decade":
		y, m, d, hh, mm, ss, us = y-y%10, 1, 1, 0, 0, 0, 0
	case "century":
		y, m, d, hh, mm, ss, us = (y-1)/100*100+1, 1, 1, 0, 0, 0, 0
	case "millennium":
		y, m, d, hh, mm, ss, us = (y-1)/1000*1000+1, 1, 1, 0, 0, 0, 0
	default:
		return types.Value{}, argError("date_trunc", "unit %q is not recognized", a[0].Str)
	}
	r := time.Date(y, m, d, hh, mm, ss, us*1000, time.UTC)
	v := types.Value{Kind: kind, Int: r.UnixMicro()}
	if !types.InRange(v) {
		return types.Value{}, errcode.New(errcode.DatetimeOverflow, "timestamp out of range")
	}
	return v, nil
}

// age(a, b) is a − b in years, months and days, PostgreSQL's symbolic
// difference ("1 year 2 mons 3 days 04:00:00"); age(a) is
// age(current_date, a).
func age(ctx *Context, a []types.Value) (types.Value, error) {
	for i, v := range a {
		if !types.IsDatetime(v.Kind) {
			return types.Value{}, argError("age", "argument %d must be a DATE, TIMESTAMP or TIMESTAMPTZ, not %s", i+1, v.Kind)
		}
	}
	var x, y int64
	if len(a) == 1 {
		x, y = types.DaysOfTime(nowOf(ctx))*types.MicrosPerDay, a[0].Micros()
	} else {
		x, y = a[0].Micros(), a[1].Micros()
	}
	return types.NewInterval(ageOf(x, y)), nil
}

func ageOf(x, y int64) types.IntervalParts {
	t1, t2 := types.TimeOfMicros(x), types.TimeOfMicros(y)
	neg := x < y
	if neg {
		t1, t2 = t2, t1
	}
	// Field-wise differences of the later minus the earlier, borrowing
	// into the next larger field; a borrowed month is the length of the
	// earlier date's month, as PostgreSQL does.
	us := int64(t1.Nanosecond()/1000 - t2.Nanosecond()/1000)
	sec := t1.Second() - t2.Second()
	min := t1.Minute() - t2.Minute()
	hour := t1.Hour() - t2.Hour()
	day := t1.Day() - t2.Day()
	mon := int(t1.Month()) - int(t2.Month())
	year := t1.Year() - t2.Year()
	if us < 0 {
		us, sec = us+1e6, sec-1
	}
	if sec < 0 {
		sec, min = sec+60, min-1
	}
	if min < 0 {
		min, hour = min+60, hour-1
	}
	if hour < 0 {
		hour, day = hour+24, day-1
	}
	for day < 0 {
		day += time.Date(t2.Year(), t2.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
		mon--
	}
	if mon < 0 {
		mon, year = mon+12, year-1
	}
	iv := types.IntervalParts{
		Months: int32(year*12 + mon),
		Days:   int32(day),
		Micros: int64(hour)*types.MicrosPerHour + int64(min)*types.MicrosPerMinute + int64(sec)*types.MicrosPerSecond + us,
	}
	if neg {
		iv = types.IntervalParts{Months: -iv.Months, Days: -iv.Days, Micros: -iv.Micros}
	}
	return iv
}

// toChar formats a date/time value with PostgreSQL's to_char patterns:
// YYYY YYY YY Y, MM, Month MONTH month, Mon MON mon, DD, DDD, D, ID, Day
// DAY day, Dy DY dy, HH HH12 HH24, MI, SS, MS, US, AM PM am pm, Q, WW,
// IW, TZ tz, the FM prefix (no padding) and "quoted text". Any other
// character is copied.
func toChar(_ *Context, a []types.Value) (types.Value, error) {
	v := a[0]
	if !types.IsDatetime(v.Kind) {
		return types.Value{}, argError("to_char", "argument 1 must be a DATE, TIMESTAMP or TIMESTAMPTZ, not %s", v.Kind)
	}
	us := v.Micros()
	t := types.TimeOfMicros(us)
	f := a[1].Str
	var b strings.Builder
	num := func(n, width int, fm bool) {
		s := strconv.Itoa(n)
		for !fm && len(s) < width {
			s = "0" + s
		}
		b.WriteString(s)
	}
	name := func(s string, fm bool, width int) {
		b.WriteString(s)
		for i := len(s); !fm && i < width; i++ {
			b.WriteByte(' ')
		}
	}
	hour12 := func() int {
		h := t.Hour() % 12
		if h == 0 {
			h = 12
		}
		return h
	}
	for i := 0; i < len(f); {
		fm := false
		if strings.HasPrefix(f[i:], "FM") || strings.HasPrefix(f[i:], "fm") {
			fm = true
			i += 2
		}
		rest := f[i:]
		match := func(p string) bool {
			if strings.HasPrefix(rest, p) {
				i += len(p)
				return true
			}
			return false
		}
		switch {
		case rest == "":
		case rest[0] == '"':
			end := strings.IndexByte(rest[1:], '"')
			if end < 0 {
				b.WriteString(rest[1:])
				i = len(f)
			} else {
				b.WriteString(rest[1 : 1+end])
				i += end + 2
			}
		case rest[0] == '\\' && len(rest) > 1:
			b.WriteByte(rest[1])
			i += 2
		case match("YYYY"):
			num(t.Year(), 4, fm)
		case match("YYY"):
			num(t.Year()%1000, 3, fm)
		case match("YY"):
			num(t.Year()%100, 2, fm)
		case match("Y"):
			num(t.Year()%10, 1, fm)
		case match("MONTH"):
			name(strings.ToUpper(t.Month().String()), fm, 9)
		case match("Month"):
			name(t.Month().String(), fm, 9)
		case match("month"):
			name(strings.ToLower(t.Month().String()), fm, 9)
		case match("MON"):
			b.WriteString(strings.ToUpper(t.Month().String()[:3]))
		case match("Mon"):
			b.WriteString(t.Month().String()[:3])
		case match("mon"):
			b.WriteString(strings.ToLower(t.Month().String()[:3]))
		case match("MM"):
			num(int(t.Month()), 2, fm)
		case match("DAY"):
			name(strings.ToUpper(t.Weekday().String()), fm, 9)
		case match("Day"):
			name(t.Weekday().String(), fm, 9)
		case match("day"):
			name(strings.ToLower(t.Weekday().String()), fm, 9)
		case match("DY"):
			b.WriteString(strings.ToUpper(t.Weekday().String()[:3]))
		case match("Dy"):
			b.WriteString(t.Weekday().String()[:3])
		case match("dy"):
			b.WriteString(strings.ToLower(t.Weekday().String()[:3]))
		case match("DDD"):
			num(t.YearDay(), 3, fm)
		case match("DD"):
			num(t.Day(), 2, fm)
		case match("D"):
			num(int(t.Weekday())+1, 1, fm)
		case match("ID"):
			num((int(t.Weekday())+6)%7+1, 1, fm)
		case match("HH24"):
			num(t.Hour(), 2, fm)
		case match("HH12"), match("HH"):
			num(hour12(), 2, fm)
		case match("MI"):
			num(t.Minute(), 2, fm)
		case match("SS"):
			num(t.Second(), 2, fm)
		case match("MS"):
			num(t.Nanosecond()/1e6, 3, fm)
		case match("US"):
			num(t.Nanosecond()/1e3, 6, fm)
		case match("AM"), match("PM"):
			b.WriteString(map[bool]string{true: "AM", false: "PM"}[t.Hour() < 12])
		case match("am"), match("pm"):
			b.WriteString(map[bool]string{true: "am", false: "pm"}[t.Hour() < 12])
		case match("Q"):
			num(int(t.Month()-1)/3+1, 1, fm)
		case match("WW"):
			num((t.YearDay()-1)/7+1, 2, fm)
		case match("IW"):
			_, w := t.ISOWeek()
			num(w, 2, fm)
		case match("TZ"):
			if v.Kind == types.TimestampTZ {
				b.WriteString("UTC")
			}
		case match("tz"):
			if v.Kind == types.TimestampTZ {
				b.WriteString("utc")
			}
		default:
			b.WriteByte(rest[0])
			i++
		}
	}
	return types.NewString(b.String()), nil
}

func typedDateFuncs() []*Func {
	return []*Func{
		{Name: "age", MinArgs: 1, MaxArgs: 2, Result: types.Interval, Impl: age, Volatile: true, StatementStable: true},
		{Name: "to_char", MinArgs: 2, MaxArgs: 2, Args: []ArgClass{AnyArg, StringArg}, Result: types.String, Impl: toChar},
		{Name: "gen_random_uuid", MinArgs: 0, MaxArgs: 0, Result: types.UUID, Volatile: true,
			Impl: func(*Context, []types.Value) (types.Value, error) { return types.RandomUUID(), nil }},
	}
}
