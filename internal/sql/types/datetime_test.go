package types

import (
	"testing"

	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

func TestDatetimeText(t *testing.T) {
	for _, tc := range []struct {
		kind Kind
		in   string
		out  string
		code errcode.Code
	}{
		{Date, "2024-02-29", "2024-02-29", ""},
		{Date, " 2024-2-9 ", "2024-02-09", ""},
		{Date, "2024-02-29 13:00", "2024-02-29", ""},
		{Date, "0001-01-01", "0001-01-01", ""},
		{Date, "2024-02-30", "", errcode.DatetimeOverflow},
		{Date, "2023-02-29", "", errcode.DatetimeOverflow},
		{Date, "2024-13-01", "", errcode.DatetimeOverflow},
		{Date, "0000-01-01", "", errcode.DatetimeOverflow},
		{Date, "24-01-01", "", errcode.InvalidDatetimeFormat},
		{Date, "yesterday", "", errcode.InvalidDatetimeFormat},
		{Date, "", "", errcode.InvalidDatetimeFormat},
		{Timestamp, "2024-02-29 13:14:15.1234565", "2024-02-29 13:14:15.123457", ""},
		{Timestamp, "2024-02-29T13:14", "2024-02-29 13:14:00", ""},
		{Timestamp, "2024-02-29 13:14:15+05:00", "2024-02-29 13:14:15", ""},
		{Timestamp, "2024-12-31 24:00:00", "2025-01-01 00:00:00", ""},
		{Timestamp, "9999-12-31 23:59:59.9999999", "", errcode.DatetimeOverflow},
		{Timestamp, "2024-01-01 24:00:01", "", errcode.DatetimeOverflow},
		{Timestamp, "2024-01-01 12:60", "", errcode.DatetimeOverflow},
		{Timestamp, "2024-01-01 12", "", errcode.InvalidDatetimeFormat},
		{Timestamp, "2024-01-01 12:00 PST", "", errcode.InvalidDatetimeFormat},
		{TimestampTZ, "2024-06-16T00:00:00.0000000+00:00", "2024-06-16 00:00:00+00", ""},
		{TimestampTZ, "2024-06-16 02:30:00+0230", "2024-06-16 00:00:00+00", ""},
		{TimestampTZ, "2024-06-16 00:00:00-01", "2024-06-16 01:00:00+00", ""},
		{TimestampTZ, "2024-06-16 00:00:00 UTC", "2024-06-16 00:00:00+00", ""},
		{TimestampTZ, "2024-06-16 00:00:00+16", "", errcode.DatetimeOverflow},
		{Interval, "1 year 2 mons 3 days 04:05:06.5", "1 year 2 mons 3 days 04:05:06.5", ""},
		{Interval, "1.5 days", "1 day 12:00:00", ""},
		{Interval, "1.5 months", "1 mon 15 days", ""},
		{Interval, "2 weeks ago", "-14 days", ""},
		{Interval, "-01:02:03", "-01:02:03", ""},
		{Interval, "90", "00:01:30", ""},
		{Interval, "10s", "00:00:10", ""},
		{Interval, "1 mon -1 day", "1 mon -1 days", ""},
		{Interval, "-1 years -1 mons", "-1 years -1 mons", ""},
		{Interval, "1 fortnight", "", errcode.InvalidDatetimeFormat},
		{Interval, "", "", errcode.InvalidDatetimeFormat},
		{Interval, "ago", "", errcode.InvalidDatetimeFormat},
		{Interval, "1:2", "", errcode.InvalidDatetimeFormat},
		{Interval, "3000000000 days", "", errcode.DatetimeOverflow},
	} {
		v, err := ParseText(tc.kind, tc.in)
		if tc.code != "" {
			if errcode.Of(err) != tc.code {
				t.Errorf("%s %q: got %v %v, want %s", tc.kind, tc.in, v, err, tc.code)
			}
			continue
		}
		if err != nil || v.String() != tc.out {
			t.Errorf("%s %q: got %q %v, want %q", tc.kind, tc.in, v.String(), err, tc.out)
		}
	}
}

func TestIntervalOrder(t *testing.T) {
	ivs := []IntervalParts{
		{Months: -1}, {Days: -1}, {Micros: -1}, {}, {Micros: 1}, {Micros: MicrosPerDay}, {Days: 1},
		{Days: 29, Micros: MicrosPerDay}, {Days: 30}, {Months: 1}, {Months: 1, Micros: 1},
	}
	for i := range ivs {
		for j := range ivs {
			want := compareInt(int64(i), int64(j))
			if got, _ := Compare(NewInterval(ivs[i]), NewInterval(ivs[j])); got != want {
				t.Errorf("%v vs %v: %d, want %d", ivs[i], ivs[j], got, want)
			}
		}
	}
}

// FuzzParseDatetime checks that date/time text never panics, fails only
// with the date/time codes, and that the output text reads back as the
// same value.
func FuzzParseDatetime(f *testing.F) {
	for _, s := range []string{"2024-02-29", "2024-02-29 13:14:15.1234565+05:30", "1 year 2 mons 3 days -04:05:06.5",
		"2 weeks ago", "9999-12-31 24:00", "1.5e3 days", "-2562047788:00:54.775808"} {
		for k := Date; k <= Interval; k++ {
			f.Add(uint8(k), s)
		}
	}
	f.Fuzz(func(t *testing.T, k uint8, s string) {
		kind := Date + Kind(k%4)
		v, err := ParseText(kind, s)
		if err != nil {
			if c := errcode.Of(err); c != errcode.InvalidDatetimeFormat && c != errcode.DatetimeOverflow {
				t.Fatalf("%s %q: error with code %s: %v", kind, s, c, err)
			}
			return
		}
		again, err := ParseText(kind, v.String())
		if err != nil || again != v {
			t.Fatalf("%s %q → %q does not read back: %v %v", kind, s, v.String(), again, err)
		}
	})
}
