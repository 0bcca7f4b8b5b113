package session

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // TimeZone names are checked against an embedded database, not the host's

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/sql/builtins"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

// settingDef describes one session setting (a PostgreSQL run-time
// parameter). Adding a setting is adding an entry to settingDefs.
type settingDef struct {
	name        string // as reported and shown, e.g. "DateStyle"
	value       string // the default
	description string // SHOW ALL's third column
	// report: a change is sent to a pgwire client as ParameterStatus
	// (PostgreSQL's GUC_REPORT).
	report bool
	// check validates a new value and returns its canonical form and an
	// optional notice for the client; nil means read-only.
	check func(value string) (canonical, notice string, err error)
}

// settingDefs is the table of known settings. Names are matched
// case-insensitively; settings whose name holds a dot (app.user_id) are
// custom and take any string, as in PostgreSQL. A new setting is one entry
// here (e.g. statement_timeout with a check that parses a duration); its
// user reads it with Settings.Get, and SET/SHOW/RESET, SHOW ALL,
// current_setting() and ParameterStatus follow from the entry.
var settingDefs = []settingDef{
	{name: "application_name", description: "Sets the application name to be reported in statistics and logs.",
		report: true, check: anyString},
	{name: "client_encoding", value: "UTF8", description: "Sets the client's character set encoding.",
		report: true, check: checkClientEncoding},
	{name: "DateStyle", value: "ISO, MDY", description: "Sets the display format for date and time values.",
		report: true, check: checkDateStyle},
	{name: "default_transaction_isolation", value: "serializable",
		description: "Sets the transaction isolation level of each new transaction.", check: checkIsolation},
	{name: "default_transaction_read_only", value: "off",
		description: "Sets the default read-only status of new transactions.", check: checkReadOnly},
	{name: "extra_float_digits", value: "1", description: "Sets the number of digits displayed for floating-point values.",
		check: checkExtraFloatDigits},
	{name: "integer_datetimes", value: "on", description: "Shows whether datetimes are integer based.", report: true},
	{name: "IntervalStyle", value: "postgres", description: "Sets the display format for interval values.",
		report: true, check: oneOf("postgres")},
	{name: "is_superuser", value: "on", description: "Shows whether the current user is a superuser.", report: true},
	{name: "max_identifier_length", value: "63", description: "Shows the maximum identifier length."},
	{name: "search_path", value: `"$user", public`, description: "Sets the schema search order for names that are not schema-qualified.",
		check: anyString},
	{name: "server_encoding", value: "UTF8", description: "Shows the server (database) character set encoding.", report: true},
	{name: "server_version", value: "16.0", description: "Shows the server version.", report: true},
	{name: "server_version_num", value: "160000", description: "Shows the server version as an integer."},
	{name: "session_authorization", description: "Shows the session user name.", report: true},
	{name: "standard_conforming_strings", value: "on", description: "Causes '...' strings to treat backslashes literally.",
		report: true, check: checkBool},
	{name: "TimeZone", value: "UTC", description: "Sets the time zone for displaying and interpreting time stamps.",
		report: true, check: checkTimeZone},
	{name: "transaction_isolation", value: "serializable", description: "Sets the current transaction's isolation level.",
		check: checkIsolation},
	{name: "transaction_read_only", value: "off", description: "Sets the current transaction's read-only status.",
		check: checkReadOnly},
}

func lookupSetting(name string) (*settingDef, bool) {
	for i := range settingDefs {
		if strings.EqualFold(settingDefs[i].name, name) {
			return &settingDefs[i], true
		}
	}
	return nil, false
}

func anyString(v string) (string, string, error) { return v, "", nil }

func invalidValue(name, value string, hint string) error {
	return errcode.New(errcode.InvalidInput, "invalid value for parameter %q: %q (%s)", name, value, hint)
}

func oneOf(allowed ...string) func(string) (string, string, error) {
	return func(v string) (string, string, error) {
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return a, "", nil
			}
		}
		return "", "", errcode.New(errcode.InvalidInput, "invalid value %q: only %s is supported", v, strings.Join(allowed, ", "))
	}
}

func checkClientEncoding(v string) (string, string, error) {
	switch strings.ToUpper(strings.ReplaceAll(strings.ReplaceAll(v, "-", ""), "_", "")) {
	case "UTF8", "UNICODE":
		return "UTF8", "", nil
	case "SQLASCII":
		// No conversion, which is what the server does with UTF-8 text.
		return "SQL_ASCII", "", nil
	}
	return "", "", invalidValue("client_encoding", v, "only UTF8 is supported")
}

func checkDateStyle(v string) (string, string, error) {
	for _, part := range strings.Split(v, ",") {
		switch strings.ToUpper(strings.TrimSpace(part)) {
		case "ISO", "MDY":
		default:
			return "", "", invalidValue("DateStyle", v, "only ISO, MDY is supported")
		}
	}
	return "ISO, MDY", "", nil
}

func checkIsolation(v string) (string, string, error) {
	switch strings.ToLower(strings.Join(strings.Fields(v), " ")) {
	case "serializable", "default":
		return "serializable", "", nil
	case "repeatable read", "read committed", "read uncommitted":
		// As CockroachDB does: a stronger level satisfies the request.
		return "serializable", "isolation level " + strings.ToUpper(v) + " is upgraded to SERIALIZABLE: every transaction is serializable", nil
	}
	return "", "", invalidValue("transaction_isolation", v, "serializable, repeatable read, read committed or read uncommitted")
}

func checkReadOnly(v string) (string, string, error) {
	b, _, err := checkBool(v)
	if err != nil {
		return "", "", err
	}
	if b == "on" {
		return "", "", errcode.New(errcode.Unsupported, "read-only transactions are not supported")
	}
	return "off", "", nil
}

func checkBool(v string) (string, string, error) {
	switch strings.ToLower(v) {
	case "on", "true", "yes", "1", "t", "y":
		return "on", "", nil
	case "off", "false", "no", "0", "f", "n":
		return "off", "", nil
	}
	return "", "", errcode.New(errcode.InvalidInput, "invalid value %q: a Boolean (on or off) is expected", v)
}

func checkExtraFloatDigits(v string) (string, string, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < -15 || n > 3 {
		return "", "", invalidValue("extra_float_digits", v, "an integer from -15 to 3")
	}
	return strconv.Itoa(n), "", nil
}

func checkTimeZone(v string) (string, string, error) {
	switch strings.ToUpper(v) {
	case "UTC", "Z", "ZULU", "GMT", "UCT":
		return "UTC", "", nil
	}
	if v == "" || strings.EqualFold(v, "local") {
		return "", "", invalidValue("TimeZone", v, "UTC or an IANA time zone name")
	}
	if _, err := time.LoadLocation(v); err != nil {
		return "", "", invalidValue("TimeZone", v, "UTC or an IANA time zone name")
	}
	return v, "", nil
}

// Settings are one session's settings (pgwire keeps one per connection).
// Not safe for concurrent use: a session runs one statement at a time.
type Settings struct {
	defaults map[string]string // lower-case name → default (settingDefs plus Config)
	session  map[string]string // SET values (lower-case name)
	local    map[string]string // SET LOCAL values, until the transaction ends
	saved    map[string]string // session values at BEGIN; nil outside a transaction
	inTxn    bool
	// reported holds the reported settings whose value may have changed
	// since TakeReports.
	reported map[string]bool
	notices  []string
	// prepared are the session's PREPAREd statements (prepare.go).
	prepared map[string]*ast.Prepare
	// sequences is what currval and lastval read (sequence.go).
	sequences sequenceMemory
}

// sequenceMemory returns the session's memory of nextval.
func (s *Settings) sequenceMemory() *sequenceMemory { return &s.sequences }

var _ builtins.Settings = (*Settings)(nil)

// SettingsConfig gives the defaults that depend on the server and the
// connection.
type SettingsConfig struct {
	ServerVersion string // e.g. "16.0"
	User          string
	// Startup are settings the client sent at connection start-up.
	Startup map[string]string
}

// SettingValue is one setting and its value.
type SettingValue struct {
	Name, Value string
}

// NewSettings returns a session's settings. A start-up setting with a bad
// value is an error (PostgreSQL refuses the connection); unknown start-up
// names are ignored.
func NewSettings(cfg SettingsConfig) (*Settings, error) {
	s := &Settings{defaults: map[string]string{}, session: map[string]string{}, local: map[string]string{}, reported: map[string]bool{}}
	for _, d := range settingDefs {
		s.defaults[strings.ToLower(d.name)] = d.value
	}
	if cfg.ServerVersion != "" {
		s.defaults["server_version"] = cfg.ServerVersion
		major, _, _ := strings.Cut(cfg.ServerVersion, ".")
		if n, err := strconv.Atoi(major); err == nil {
			s.defaults["server_version_num"] = strconv.Itoa(n * 10000)
		}
	}
	s.defaults["session_authorization"] = cfg.User
	for _, name := range slices.Sorted(maps.Keys(cfg.Startup)) {
		d, ok := lookupSetting(name)
		if !ok || d.check == nil {
			continue
		}
		v, _, err := d.check(cfg.Startup[name])
		if err != nil {
			return nil, err
		}
		s.defaults[strings.ToLower(d.name)] = v // RESET goes back to it, as in PostgreSQL
	}
	return s, nil
}

// Get implements builtins.Settings.
func (s *Settings) Get(name string) (string, error) {
	if v, ok := s.get(strings.ToLower(name)); ok {
		return v, nil
	}
	return "", unknownSetting(name)
}

// get is Get of a lower-case name (the front-end reads some settings for
// every statement).
func (s *Settings) get(key string) (string, bool) {
	if len(s.local) > 0 {
		if v, ok := s.local[key]; ok {
			return v, true
		}
	}
	if len(s.session) > 0 {
		if v, ok := s.session[key]; ok {
			return v, true
		}
	}
	v, ok := s.defaults[key]
	return v, ok
}

func unknownSetting(name string) error {
	return errcode.New(errcode.UnknownSetting, "unrecognized configuration parameter %q", name)
}

// Set implements builtins.Settings.
func (s *Settings) Set(name, value string, local bool) (string, error) {
	key := strings.ToLower(name)
	canonical := value
	if d, ok := lookupSetting(key); ok {
		if d.check == nil {
			return "", errcode.New(errcode.InvalidInput, "parameter %q cannot be changed", d.name)
		}
		var notice string
		var err error
		if canonical, notice, err = d.check(value); err != nil {
			return "", err
		}
		if notice != "" {
			s.notices = append(s.notices, notice)
		}
		if d.report {
			s.reported[key] = true
		}
	} else if !strings.Contains(key, ".") || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") {
		return "", unknownSetting(name)
	}
	if local {
		if !s.inTxn {
			s.notices = append(s.notices, "SET LOCAL can only be used in transaction blocks: it has no effect here")
			v, _ := s.Get(key)
			return v, nil
		}
		s.local[key] = canonical
		return canonical, nil
	}
	delete(s.local, key)
	s.session[key] = canonical
	return canonical, nil
}

// Reset sets a setting back to its default (RESET name).
func (s *Settings) Reset(name string) error {
	key := strings.ToLower(name)
	d, known := lookupSetting(key)
	if !known {
		if _, ok := s.session[key]; !ok && !strings.Contains(key, ".") {
			return unknownSetting(name)
		}
	} else if d.check == nil {
		return errcode.New(errcode.InvalidInput, "parameter %q cannot be changed", d.name)
	}
	if known && d.report {
		s.reported[key] = true
	}
	delete(s.local, key)
	delete(s.session, key)
	return nil
}

// ResetAll sets every setting back to its default (RESET ALL, DISCARD ALL).
func (s *Settings) ResetAll() {
	for key := range s.session {
		s.markReported(key)
	}
	for key := range s.local {
		s.markReported(key)
	}
	clear(s.session)
	clear(s.local)
}

func (s *Settings) markReported(key string) {
	if d, ok := lookupSetting(key); ok && d.report {
		s.reported[key] = true
	}
}

// BeginTxn marks the start of a transaction block: a rollback undoes the
// SETs made in it, and SET LOCAL lasts until its end.
func (s *Settings) BeginTxn() {
	s.inTxn = true
	s.saved = maps.Clone(s.session)
}

// EndTxn ends the transaction block: committed keeps its SETs, otherwise
// the session values go back to what they were at BeginTxn. SET LOCAL
// values end either way.
func (s *Settings) EndTxn(committed bool) {
	if !s.inTxn {
		return
	}
	for key := range s.local {
		s.markReported(key)
	}
	clear(s.local)
	if !committed {
		for key := range s.session {
			s.markReported(key)
		}
		for key := range s.saved {
			s.markReported(key)
		}
		s.session = s.saved
	}
	s.saved, s.inTxn = nil, false
}

// TakeReports returns the reported settings (ParameterStatus) that may
// have changed since the last call, with their current values, and
// forgets them.
func (s *Settings) TakeReports() []SettingValue {
	if len(s.reported) == 0 {
		return nil
	}
	var out []SettingValue
	for _, key := range slices.Sorted(maps.Keys(s.reported)) {
		d, _ := lookupSetting(key)
		v, _ := s.Get(key)
		out = append(out, SettingValue{Name: d.name, Value: v})
	}
	clear(s.reported)
	return out
}

// TakeNotices returns the notices settings changes produced (an upgraded
// isolation level, SET LOCAL outside a transaction) and forgets them.
func (s *Settings) TakeNotices() []string {
	out := s.notices
	s.notices = nil
	return out
}

// Reported returns the settings a pgwire server reports at start-up.
func (s *Settings) Reported() []SettingValue {
	var out []SettingValue
	for _, d := range settingDefs {
		if d.report {
			v, _ := s.Get(d.name)
			out = append(out, SettingValue{Name: d.name, Value: v})
		}
	}
	return out
}

// StandardStrings reports standard_conforming_strings.
func (s *Settings) StandardStrings() bool {
	v, _ := s.get("standard_conforming_strings")
	return v == "on"
}

// ExtraFloatDigits reports extra_float_digits.
func (s *Settings) ExtraFloatDigits() int {
	v, _ := s.get("extra_float_digits")
	n, _ := strconv.Atoi(v)
	return n
}

// execSetting runs SET, RESET and SHOW of a setting against req.Settings.
func execSetting(req Request, stmt ast.Statement) (*Result, error) {
	s := req.Settings
	if s == nil {
		return nil, errcode.New(errcode.Unsupported, "session settings exist only in a session (pgwire); the HTTP API is stateless")
	}
	switch st := stmt.(type) {
	case *ast.SetVar:
		var err error
		if st.Default {
			if st.Local {
				// SET LOCAL x TO DEFAULT: the session default until the end.
				def, _ := s.Get(st.Name)
				if d, ok := lookupSetting(st.Name); ok {
					def = s.defaults[strings.ToLower(d.name)]
				}
				_, err = s.Set(st.Name, def, true)
			} else {
				err = s.Reset(st.Name)
			}
		} else {
			_, err = s.Set(st.Name, strings.Join(st.Values, ", "), st.Local)
		}
		if err != nil {
			return nil, err
		}
		return &Result{Kind: ResultDDL, Database: req.Database}, nil
	case *ast.ResetVar:
		if st.All {
			s.ResetAll()
		} else if err := s.Reset(st.Name); err != nil {
			return nil, err
		}
		return &Result{Kind: ResultDDL, Database: req.Database}, nil
	case *ast.ShowVar:
		if st.All {
			res := &Result{Kind: ResultRows, Database: req.Database, Columns: []Column{
				{Name: "name", Type: types.String}, {Name: "setting", Type: types.String}, {Name: "description", Type: types.String}}}
			for _, r := range s.All() {
				res.Rows = append(res.Rows, stringRow(r[0], r[1], r[2]))
			}
			return res, nil
		}
		v, err := s.Get(st.Name)
		if err != nil {
			return nil, err
		}
		name := st.Name
		if d, ok := lookupSetting(name); ok {
			name = d.name
		}
		return &Result{Kind: ResultRows, Database: req.Database, Columns: []Column{{Name: name, Type: types.String}},
			Rows: [][]types.Value{stringRow(v)}}, nil
	}
	return nil, errcode.New(errcode.Internal, "execSetting: unexpected %T", stmt)
}

func stringRow(values ...string) []types.Value {
	row := make([]types.Value, len(values))
	for i, v := range values {
		row[i] = types.NewString(v)
	}
	return row
}

// All lists every setting (known ones and custom ones set in the session)
// as (name, current value, description), sorted by name: SHOW ALL and
// pg_settings.
func (s *Settings) All() [][3]string {
	names := make([]string, 0, len(settingDefs))
	descs := map[string]string{}
	for _, d := range settingDefs {
		names = append(names, d.name)
		descs[d.name] = d.description
	}
	for key := range s.session {
		if _, known := lookupSetting(key); !known {
			names = append(names, key)
		}
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	out := make([][3]string, 0, len(names))
	for _, name := range names {
		v, _ := s.Get(name)
		out = append(out, [3]string{name, v, descs[name]})
	}
	return out
}
