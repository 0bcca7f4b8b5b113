package errcode

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// docs/errors.md must list every code with the HTTP status and SQLSTATE
// this package maps it to: the table users read is the one the code uses.
func TestErrorsDocListsEveryCode(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/errors.md")
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("errcode.go")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		if m := regexp.MustCompile("^\\| `(CADB\\d{4})` \\|").FindStringSubmatch(line); m != nil {
			rows[m[1]] = line
		}
	}
	codes := regexp.MustCompile(`Code = "(CADB\d{4})"`).FindAllStringSubmatch(string(src), -1)
	if len(codes) < 30 {
		t.Fatalf("found only %d codes in errcode.go", len(codes))
	}
	for _, m := range codes {
		code := Code(m[1])
		row, ok := rows[string(code)]
		if !ok {
			t.Errorf("docs/errors.md does not list %s", code)
			continue
		}
		cells := strings.Split(row, "|")
		if len(cells) < 6 {
			t.Errorf("%s: malformed row %q", code, row)
			continue
		}
		status, state := strings.TrimSpace(cells[3]), strings.Trim(strings.TrimSpace(cells[4]), "`")
		if !strings.HasPrefix(status, strconv.Itoa(HTTPStatus(code))) {
			t.Errorf("%s: docs say HTTP %s, the code answers %d", code, status, HTTPStatus(code))
		}
		if state != SQLState(code) {
			t.Errorf("%s: docs say SQLSTATE %s, the code answers %s", code, state, SQLState(code))
		}
	}
}
