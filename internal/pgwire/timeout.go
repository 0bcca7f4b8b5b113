package pgwire

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// statement_timeout is the one session setting that changes how
// statements run here (SET/SHOW/RESET statement_timeout): the session
// layer bounds each statement by it and answers CADB0507 (57014) past it.
// Other settings are only remembered for SHOW (sqltext.go).

const statementTimeoutName = "statement_timeout"

// maxStatementTimeout is the largest statement_timeout PostgreSQL accepts
// (INT_MAX milliseconds).
const maxStatementTimeout = (1<<31 - 1) * time.Millisecond

// interceptTimeout answers SET, SHOW and RESET of statement_timeout.
// handled=false passes the statement on (RESET ALL and DISCARD ALL also
// clear the timeout, then go on to the other settings).
func (c *conn) interceptTimeout(sql string, kw []string) (res outcome, handled bool, err error) {
	if len(kw) < 2 {
		return outcome{}, false, nil
	}
	name := kw[1]
	if kw[0] == "set" && (name == "session" || name == "local") && len(kw) > 2 {
		name = kw[2]
	}
	switch {
	case (kw[0] == "reset" || kw[0] == "discard") && name == "all":
		c.timeout = sessionTimeout{}
		return outcome{}, false, nil
	case name != statementTimeoutName:
		return outcome{}, false, nil
	}
	switch kw[0] {
	case "set":
		value, ok := setValue(sql)
		if !ok {
			return outcome{}, true, errcode.New(errcode.InvalidInput, "SET statement_timeout needs a value: SET statement_timeout = '5s' (or a number of milliseconds; 0 turns it off)")
		}
		if strings.EqualFold(value, "default") {
			c.timeout = sessionTimeout{}
			return outcome{tag: "SET"}, true, nil
		}
		d, err := parseStatementTimeout(value)
		if err != nil {
			return outcome{}, true, err
		}
		c.timeout = sessionTimeout{set: true, value: d}
		return outcome{tag: "SET"}, true, nil
	case "reset":
		c.timeout = sessionTimeout{}
		return outcome{tag: "RESET"}, true, nil
	case "show":
		return outcome{tag: "SHOW", rows: singleValue(statementTimeoutName, types.NewString(formatStatementTimeout(c.effectiveTimeout())))}, true, nil
	}
	return outcome{}, false, nil
}

// startupTimeout applies a statement_timeout given as a startup parameter
// (pgx: ?statement_timeout=5s in the URL; libpq: options=-c
// statement_timeout=5s).
func (c *conn) startupTimeout(params map[string]string) error {
	value, ok := params[statementTimeoutName]
	if !ok {
		for _, opt := range strings.Fields(params["options"]) {
			if v, found := strings.CutPrefix(opt, statementTimeoutName+"="); found {
				value, ok = v, true
			}
		}
	}
	if !ok {
		return nil
	}
	d, err := parseStatementTimeout(value)
	if err != nil {
		return err
	}
	c.timeout = sessionTimeout{set: true, value: d}
	return nil
}

// sessionTimeout is a connection's statement_timeout; unset means the
// node default (sql_statement_timeout_ms).
type sessionTimeout struct {
	set   bool
	value time.Duration // 0: no timeout
}

func (c *conn) effectiveTimeout() time.Duration {
	if c.timeout.set {
		return c.timeout.value
	}
	return c.srv.cfg.DefaultStatementTimeout
}

// requestTimeout is session.Request.Timeout and TimeoutSetting for the
// connection's next statement.
func (c *conn) requestTimeout() (time.Duration, string) {
	if !c.timeout.set {
		return 0, "" // the session layer applies the node default
	}
	if c.timeout.value == 0 {
		return -1, ""
	}
	return c.timeout.value, statementTimeoutName
}

// setValue returns the value of SET name {=|TO} value, unquoted.
func setValue(sql string) (string, bool) {
	text := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(sql), ";"))
	lower := strings.ToLower(text)
	i := strings.Index(lower, statementTimeoutName)
	if i < 0 {
		return "", false
	}
	rest := strings.TrimSpace(text[i+len(statementTimeoutName):])
	switch {
	case strings.HasPrefix(rest, "="):
		rest = rest[1:]
	case len(rest) > 2 && strings.EqualFold(rest[:2], "to") && (rest[2] == ' ' || rest[2] == '\t' || rest[2] == '\'' || rest[2] == '"'):
		rest = rest[2:]
	default:
		return "", false
	}
	rest = unquoteSetting(strings.TrimSpace(rest))
	return rest, rest != ""
}

// unquoteSetting strips one pair of matching quotes around a setting value.
func unquoteSetting(v string) string {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		return v[1 : len(v)-1]
	}
	return v
}

// timeoutUnits are the units PostgreSQL accepts for time settings.
var timeoutUnits = []struct {
	name string
	unit time.Duration
}{
	{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second},
	{"min", time.Minute}, {"h", time.Hour}, {"d", 24 * time.Hour},
}

var errBadTimeout = errors.New("bad statement_timeout")

// parseStatementTimeout reads a statement_timeout value as PostgreSQL
// does: a number of milliseconds, or a number with a unit (us, ms, s,
// min, h, d), e.g. '5s', '250ms', '1.5min'. 0 turns the timeout off.
func parseStatementTimeout(value string) (time.Duration, error) {
	d, err := parseDurationValue(value)
	if err != nil || d < 0 || d > maxStatementTimeout {
		return 0, errcode.New(errcode.InvalidInput,
			"invalid value for parameter \"statement_timeout\": %q (want milliseconds or a number with a unit us, ms, s, min, h or d, between 0 and 2147483647ms; 0 turns it off)", value)
	}
	return d, nil
}

func parseDurationValue(value string) (time.Duration, error) {
	v := strings.TrimSpace(value)
	end := 0
	for end < len(v) && (v[end] >= '0' && v[end] <= '9' || v[end] == '.' || (end == 0 && (v[end] == '-' || v[end] == '+'))) {
		end++
	}
	number, unitText := v[:end], strings.TrimSpace(v[end:])
	n, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, errBadTimeout
	}
	unit := time.Millisecond
	if unitText != "" {
		found := false
		for _, u := range timeoutUnits {
			if unitText == u.name {
				unit, found = u.unit, true
				break
			}
		}
		if !found {
			return 0, errBadTimeout
		}
	}
	f := n * float64(unit)
	if f > float64(maxStatementTimeout)*2 || f < -1 {
		return 0, errBadTimeout
	}
	return time.Duration(f), nil
}

// formatStatementTimeout renders a timeout as SHOW does in PostgreSQL:
// "0" when off, else the largest unit that divides it ("5s", "250ms").
func formatStatementTimeout(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	for i := len(timeoutUnits) - 1; i >= 0; i-- {
		u := timeoutUnits[i]
		if d%u.unit == 0 {
			return strconv.FormatInt(int64(d/u.unit), 10) + u.name
		}
	}
	return strconv.FormatInt(d.Microseconds(), 10) + "us"
}
