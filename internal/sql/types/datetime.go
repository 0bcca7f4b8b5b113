package types

import (
	"encoding/binary"
	"strconv"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// Date and time values. DATE holds days since 1970-01-01 in Int;
// TIMESTAMP microseconds since 1970-01-01 00:00:00 (a wall-clock reading,
// no zone) in Int; TIMESTAMPTZ microseconds since the Unix epoch (an
// instant, shown in UTC) in Int; INTERVAL months, days and microseconds
// (PostgreSQL's three fields), micros in Int and months and days packed
// in Str. Years 1..9999 are supported (CADB0413 outside).

// Microseconds per unit.
const (
	MicrosPerSecond = int64(1e6)
	MicrosPerMinute = 60 * MicrosPerSecond
	MicrosPerHour   = 60 * MicrosPerMinute
	MicrosPerDay    = 24 * MicrosPerHour
)

// The supported range: 0001-01-01 to 9999-12-31 (days since 1970-01-01),
// and its microsecond bounds (the last is exclusive).
const (
	MinDate   = -719162
	MaxDate   = 2932896
	MinMicros = MinDate * MicrosPerDay
	EndMicros = (MaxDate + 1) * MicrosPerDay
)

// NewDate, NewTimestamp and NewTimestampTZ build date/time values.
func NewDate(days int64) Value      { return Value{Kind: Date, Int: days} }
func NewTimestamp(us int64) Value   { return Value{Kind: Timestamp, Int: us} }
func NewTimestampTZ(us int64) Value { return Value{Kind: TimestampTZ, Int: us} }

// IsDatetime reports whether k is DATE, TIMESTAMP or TIMESTAMPTZ.
func IsDatetime(k Kind) bool { return k == Date || k == Timestamp || k == TimestampTZ }

// TimeOfMicros and TimeOfDate convert to a UTC time.Time.
func TimeOfMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }
func TimeOfDate(days int64) time.Time { return time.Unix(days*86400, 0).UTC() }

// DaysOfTime returns the days since 1970-01-01 of t's UTC date.
func DaysOfTime(t time.Time) int64 { return floorDiv(t.Unix(), 86400) }

// Micros returns the microseconds since 1970-01-01 of a DATE (midnight),
// TIMESTAMP or TIMESTAMPTZ, the scale on which they compare.
func (v Value) Micros() int64 {
	if v.Kind == Date {
		return v.Int * MicrosPerDay
	}
	return v.Int
}

// InRange reports whether a date/time value lies in years 1..9999.
func InRange(v Value) bool {
	if v.Kind == Date {
		return v.Int >= MinDate && v.Int <= MaxDate
	}
	return inMicrosRange(v.Int)
}

func inMicrosRange(us int64) bool { return us >= MinMicros && us < EndMicros }

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// FloorMod is the remainder of FloorDiv (0 <= r < b for b > 0).
func FloorMod(a, b int64) int64 { return floorMod(a, b) }

// FloorDiv divides rounding toward negative infinity.
func FloorDiv(a, b int64) int64 { return floorDiv(a, b) }

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// IntervalParts is PostgreSQL's interval: months, days and microseconds are
// kept apart because their lengths vary (a month is 28..31 days, a day
// 23..25 hours across a DST change).
type IntervalParts struct {
	Months int32
	Days   int32
	Micros int64
}

// NewInterval builds an INTERVAL value.
func NewInterval(iv IntervalParts) Value {
	var b [8]byte
	binary.BigEndian.PutUint32(b[:4], uint32(iv.Months))
	binary.BigEndian.PutUint32(b[4:], uint32(iv.Days))
	return Value{Kind: Interval, Int: iv.Micros, Str: string(b[:])}
}

// Interval returns the fields of an INTERVAL value.
func (v Value) Interval() IntervalParts {
	if len(v.Str) != 8 {
		return IntervalParts{Micros: v.Int}
	}
	return IntervalParts{
		Months: int32(binary.BigEndian.Uint32([]byte(v.Str[:4]))),
		Days:   int32(binary.BigEndian.Uint32([]byte(v.Str[4:]))),
		Micros: v.Int,
	}
}

// Span returns the interval's length for ordering, as PostgreSQL measures
// it (a month is 30 days, a day 24 hours): whole days and the microseconds
// left over (0 <= rem < a day).
func (iv IntervalParts) Span() (days, rem int64) {
	days = int64(iv.Months)*30 + int64(iv.Days) + floorDiv(iv.Micros, MicrosPerDay)
	return days, floorMod(iv.Micros, MicrosPerDay)
}

// compareInterval orders by span, then months, then days, so the order is
// total and only identical intervals are equal ('1 mon' sorts next to,
// but is not equal to, '30 days').
func compareInterval(a, b IntervalParts) int {
	ad, ar := a.Span()
	bd, br := b.Span()
	for _, p := range [...][2]int64{{ad, bd}, {ar, br}, {int64(a.Months), int64(b.Months)}, {int64(a.Days), int64(b.Days)}} {
		switch {
		case p[0] < p[1]:
			return -1
		case p[0] > p[1]:
			return 1
		}
	}
	return 0
}

// ---------------------------------------------------------------- output

// FormatDate renders days as YYYY-MM-DD.
func FormatDate(days int64) string { return TimeOfDate(days).Format("2006-01-02") }

// FormatTimestamp renders a TIMESTAMP as YYYY-MM-DD HH:MM:SS[.ffffff]
// (trailing fraction zeros dropped), PostgreSQL's ISO output.
func FormatTimestamp(us int64) string {
	return TimeOfMicros(us).Format("2006-01-02 15:04:05.999999")
}

// FormatTimestampTZ renders a TIMESTAMPTZ in UTC with PostgreSQL's "+00"
// zone suffix.
func FormatTimestampTZ(us int64) string { return FormatTimestamp(us) + "+00" }

// String renders an interval in PostgreSQL's default (postgres)
// IntervalStyle: "1 year 2 mons 3 days 04:05:06.5", "-00:00:01", "00:00:00".
func (iv IntervalParts) String() string {
	var parts []string
	plural := func(n int64, unit string) {
		if n == 0 {
			return
		}
		s := strconv.FormatInt(n, 10) + " " + unit
		if n != 1 {
			s += "s"
		}
		parts = append(parts, s)
	}
	plural(int64(iv.Months)/12, "year")
	plural(int64(iv.Months)%12, "mon")
	plural(int64(iv.Days), "day")
	if iv.Micros != 0 || len(parts) == 0 {
		us := iv.Micros
		sign := ""
		if us < 0 {
			sign = "-"
		}
		u := uint64(us)
		if us < 0 {
			u = uint64(-(us + 1)) + 1 // |MinInt64| without overflow
		}
		h, rest := u/uint64(MicrosPerHour), u%uint64(MicrosPerHour)
		m, rest := rest/uint64(MicrosPerMinute), rest%uint64(MicrosPerMinute)
		s, frac := rest/uint64(MicrosPerSecond), rest%uint64(MicrosPerSecond)
		t := sign + pad2(h) + ":" + pad2(m) + ":" + pad2(s)
		if frac != 0 {
			f := strconv.FormatUint(frac+uint64(MicrosPerSecond), 10)[1:]
			t += "." + strings.TrimRight(f, "0")
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, " ")
}

func pad2(n uint64) string {
	if n < 10 {
		return "0" + strconv.FormatUint(n, 10)
	}
	return strconv.FormatUint(n, 10)
}

// ---------------------------------------------------------------- input

func badDatetime(kind, s string) error {
	return errcode.New(errcode.InvalidDatetimeFormat, "invalid input syntax for type %s: %q", kind, clip(s))
}

func datetimeOverflow(s string) error {
	return errcode.New(errcode.DatetimeOverflow, "date/time field value out of range: %q", clip(s))
}

// dtParts is a parsed date/time text.
type dtParts struct {
	days    int64
	micros  int64 // time of day
	hasTime bool
	hasZone bool
	offset  int64 // zone offset east of UTC, in microseconds
}

// scanner reads digits and punctuation of a date/time text.
type scanner struct {
	s string
	i int
}

func (p *scanner) digits(min, max int) (int64, bool) {
	start := p.i
	for p.i < len(p.s) && p.i-start < max && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i-start < min {
		return 0, false
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	return n, err == nil
}

func (p *scanner) accept(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *scanner) done() bool { return p.i == len(p.s) }

// parseDatetime reads YYYY-MM-DD, optionally followed by a space or T and
// HH:MM[:SS[.fraction]], optionally followed by a zone (Z, UTC, +HH,
// +HH:MM, +HHMM). kind names the type in errors. Field values out of
// range (February 30, hour 25) are CADB0413; anything else malformed is
// CADB0412.
func parseDatetime(kind, text string) (dtParts, error) {
	s := strings.TrimSpace(text)
	p := &scanner{s: s}
	var out dtParts
	y, ok1 := p.digits(4, 5)
	ok2 := p.accept('-')
	mo, ok3 := p.digits(1, 2)
	ok4 := p.accept('-')
	d, ok5 := p.digits(1, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return out, badDatetime(kind, text)
	}
	if y < 1 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > int64(daysIn(int(y), time.Month(mo))) {
		return out, datetimeOverflow(text)
	}
	out.days = DaysOfTime(time.Date(int(y), time.Month(mo), int(d), 0, 0, 0, 0, time.UTC))
	if p.done() {
		return out, nil
	}
	if !(p.accept(' ') || p.accept('T') || p.accept('t')) {
		return out, badDatetime(kind, text)
	}
	for p.accept(' ') {
	}
	h, ok1 := p.digits(1, 2)
	ok2 = p.accept(':')
	mi, ok3 := p.digits(2, 2)
	if !(ok1 && ok2 && ok3) {
		return out, badDatetime(kind, text)
	}
	var sec, frac int64
	if p.accept(':') {
		var ok bool
		if sec, ok = p.digits(2, 2); !ok {
			return out, badDatetime(kind, text)
		}
		if p.accept('.') {
			start := p.i
			if _, ok := p.digits(1, 30); !ok {
				return out, badDatetime(kind, text)
			}
			frac = roundFraction(s[start:p.i])
		}
	}
	if h > 24 || mi > 59 || sec > 60 || (h == 24 && (mi != 0 || sec != 0 || frac != 0)) {
		return out, datetimeOverflow(text)
	}
	out.hasTime = true
	out.micros = h*MicrosPerHour + mi*MicrosPerMinute + sec*MicrosPerSecond + frac
	for p.accept(' ') {
	}
	if p.done() {
		return out, nil
	}
	out.hasZone = true
	rest := s[p.i:]
	switch {
	case rest == "Z" || rest == "z" || strings.EqualFold(rest, "UTC") || strings.EqualFold(rest, "GMT"):
		return out, nil
	case rest[0] == '+' || rest[0] == '-':
		p.i++
		zh, ok := p.digits(1, 2)
		if !ok {
			return out, badDatetime(kind, text)
		}
		var zm int64
		if p.accept(':') {
			if zm, ok = p.digits(2, 2); !ok {
				return out, badDatetime(kind, text)
			}
		} else if !p.done() {
			if zm, ok = p.digits(2, 2); !ok {
				return out, badDatetime(kind, text)
			}
		}
		if !p.done() {
			return out, badDatetime(kind, text)
		}
		if zh > 15 || zm > 59 {
			return out, datetimeOverflow(text)
		}
		out.offset = zh*MicrosPerHour + zm*MicrosPerMinute
		if rest[0] == '-' {
			out.offset = -out.offset
		}
		return out, nil
	}
	return out, badDatetime(kind, text)
}

// roundFraction turns the digits after the decimal point into
// microseconds, rounding half up at the seventh digit.
func roundFraction(digits string) int64 {
	var us int64
	for i := 0; i < 6; i++ {
		us *= 10
		if i < len(digits) {
			us += int64(digits[i] - '0')
		}
	}
	if len(digits) > 6 && digits[6] >= '5' {
		us++
	}
	return us
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// ParseDate reads a DATE (YYYY-MM-DD; a time part is accepted and
// dropped, as PostgreSQL does).
func ParseDate(s string) (Value, error) {
	p, err := parseDatetime("date", s)
	if err != nil {
		return Value{}, err
	}
	return NewDate(p.days), nil
}

// ParseTimestamp reads a TIMESTAMP; a zone, if given, is ignored, as
// PostgreSQL does for timestamp without time zone.
func ParseTimestamp(s string) (Value, error) {
	p, err := parseDatetime("timestamp", s)
	if err != nil {
		return Value{}, err
	}
	us := p.days*MicrosPerDay + p.micros
	if !inMicrosRange(us) {
		return Value{}, datetimeOverflow(s)
	}
	return NewTimestamp(us), nil
}

// ParseTimestampTZ reads a TIMESTAMPTZ; without a zone the time is UTC
// (the session time zone is always UTC).
func ParseTimestampTZ(s string) (Value, error) {
	p, err := parseDatetime("timestamp with time zone", s)
	if err != nil {
		return Value{}, err
	}
	us := p.days*MicrosPerDay + p.micros - p.offset
	if !inMicrosRange(us) {
		return Value{}, datetimeOverflow(s)
	}
	return NewTimestampTZ(us), nil
}

// intervalUnits maps unit spellings to (months, days, micros) per unit.
var intervalUnits = map[string][3]int64{
	"microsecond": {0, 0, 1}, "microseconds": {0, 0, 1}, "us": {0, 0, 1}, "usec": {0, 0, 1}, "usecs": {0, 0, 1},
	"millisecond": {0, 0, 1000}, "milliseconds": {0, 0, 1000}, "ms": {0, 0, 1000}, "msec": {0, 0, 1000}, "msecs": {0, 0, 1000},
	"second": {0, 0, MicrosPerSecond}, "seconds": {0, 0, MicrosPerSecond}, "sec": {0, 0, MicrosPerSecond}, "secs": {0, 0, MicrosPerSecond}, "s": {0, 0, MicrosPerSecond},
	"minute": {0, 0, MicrosPerMinute}, "minutes": {0, 0, MicrosPerMinute}, "min": {0, 0, MicrosPerMinute}, "mins": {0, 0, MicrosPerMinute}, "m": {0, 0, MicrosPerMinute},
	"hour": {0, 0, MicrosPerHour}, "hours": {0, 0, MicrosPerHour}, "hr": {0, 0, MicrosPerHour}, "hrs": {0, 0, MicrosPerHour}, "h": {0, 0, MicrosPerHour},
	"day": {0, 1, 0}, "days": {0, 1, 0}, "d": {0, 1, 0},
	"week": {0, 7, 0}, "weeks": {0, 7, 0}, "w": {0, 7, 0},
	"month": {1, 0, 0}, "months": {1, 0, 0}, "mon": {1, 0, 0}, "mons": {1, 0, 0},
	"year": {12, 0, 0}, "years": {12, 0, 0}, "yr": {12, 0, 0}, "yrs": {12, 0, 0}, "y": {12, 0, 0},
	"decade": {120, 0, 0}, "decades": {120, 0, 0},
	"century": {1200, 0, 0}, "centuries": {1200, 0, 0},
	"millennium": {12000, 0, 0}, "millennia": {12000, 0, 0}, "millenniums": {12000, 0, 0},
}

// ParseInterval reads PostgreSQL's interval input: a sequence of
// "<number> <unit>" (fractions allowed: '1.5 days' is 1 day 12:00:00) and
// an optional [-]HH:MM[:SS[.fraction]], optionally ending in "ago"
// (negates). A bare number is seconds. Bad text is CADB0412; a result
// beyond the fields' range is CADB0413.
func ParseInterval(text string) (Value, error) {
	bad := func() (Value, error) { return Value{}, badDatetime("interval", text) }
	fields := strings.Fields(strings.ToLower(text))
	if len(fields) == 0 {
		return bad()
	}
	neg := false
	if fields[len(fields)-1] == "ago" {
		neg, fields = true, fields[:len(fields)-1]
		if len(fields) == 0 {
			return bad()
		}
	}
	var months, days, micros float64
	seen := false
	for i := 0; i < len(fields); i++ {
		f := fields[i]
		if strings.Contains(f, ":") {
			us, ok := parseClock(f)
			if !ok {
				return bad()
			}
			micros += float64(us)
			seen = true
			continue
		}
		// A number, its unit attached ("10s", "3days") or the next field.
		j := 0
		for j < len(f) && (f[j] == '-' || f[j] == '+' || f[j] == '.' || (f[j] >= '0' && f[j] <= '9')) {
			j++
		}
		num, unit := f[:j], f[j:]
		n, err := strconv.ParseFloat(num, 64)
		if err != nil || num == "" {
			return bad()
		}
		if unit == "" && i+1 < len(fields) {
			if _, ok := intervalUnits[fields[i+1]]; ok {
				i++
				unit = fields[i]
			}
		}
		if unit == "" {
			if i+1 != len(fields) || seen {
				return bad()
			}
			unit = "second"
		}
		per, ok := intervalUnits[unit]
		if !ok {
			return bad()
		}
		months += n * float64(per[0])
		days += n * float64(per[1])
		micros += n * float64(per[2])
		seen = true
	}
	// Fractions cascade down: a fraction of a month is 30 days, of a day
	// 24 hours, as PostgreSQL does.
	wholeMonths := trunc(months)
	days += (months - wholeMonths) * 30
	wholeDays := trunc(days)
	micros += (days - wholeDays) * float64(MicrosPerDay)
	if neg {
		wholeMonths, wholeDays, micros = -wholeMonths, -wholeDays, -micros
	}
	if abs(wholeMonths) > 2147483647 || abs(wholeDays) > 2147483647 || abs(micros) >= 9.2e18 {
		return Value{}, errcode.New(errcode.DatetimeOverflow, "interval out of range: %q", clip(text))
	}
	return NewInterval(IntervalParts{Months: int32(wholeMonths), Days: int32(wholeDays), Micros: int64(roundHalfAway(micros))}), nil
}

func trunc(f float64) float64 {
	if f < 0 {
		return -float64(int64(-f))
	}
	return float64(int64(f))
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

func roundHalfAway(f float64) float64 {
	if f < 0 {
		return -float64(int64(-f + 0.5))
	}
	return float64(int64(f + 0.5))
}

// parseClock reads [-]H+:MM[:SS[.fraction]] as microseconds.
func parseClock(f string) (int64, bool) {
	neg := strings.HasPrefix(f, "-")
	f = strings.TrimLeft(f, "+-")
	parts := strings.Split(f, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(parts[0], 10, 64)
	m, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || h < 0 || h > 2562047788 || m < 0 || m > 59 || len(parts[1]) != 2 {
		return 0, false
	}
	us := h*MicrosPerHour + m*MicrosPerMinute
	if len(parts) == 3 {
		secText, fracText, hasFrac := strings.Cut(parts[2], ".")
		s, err := strconv.ParseInt(secText, 10, 64)
		if err != nil || len(secText) != 2 || s > 59 {
			return 0, false
		}
		us += s * MicrosPerSecond
		if hasFrac {
			for _, c := range fracText {
				if c < '0' || c > '9' {
					return 0, false
				}
			}
			if fracText == "" {
				return 0, false
			}
			us += roundFraction(fracText)
		}
	}
	if neg {
		us = -us
	}
	return us, true
}
