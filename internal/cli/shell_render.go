package cli

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/camusdb/camusdb-go/client"
	"github.com/camusdb/camusdb-go/internal/sql/types"
	"github.com/jedib0t/go-pretty/v6/table"
	"github.com/jedib0t/go-pretty/v6/text"
)

// Output formats of query results.
const (
	shellFormatTable = "table" // aligned box table, then "N rows"
	shellFormatTSV   = "tsv"   // header line and rows, tab-separated, no footer
)

// render prints a successful result. The lines are stable (system tests
// and scripts read them):
//
//	rows:      the table, then "1 row" / "N rows"
//	affected:  "1 row affected" / "N rows affected"
//	begin:     "BEGIN"; commit: "COMMIT"; rollback: "ROLLBACK"
//	other:     "Query OK"
//
// With timing on, " (12.345 ms)" follows the count or status word.
func (s *shellSession) render(res *client.Result, keyword string, elapsed time.Duration) {
	suffix := ""
	if s.timing {
		suffix = fmt.Sprintf(" (%.3f ms)", float64(elapsed.Microseconds())/1000)
	}
	switch res.Kind {
	case client.ResultRows:
		s.renderRows(res)
		if s.format != shellFormatTSV {
			fmt.Fprintf(s.out, "%s%s\n", shellPlural(len(res.Rows), "row"), suffix)
		}
	case client.ResultAffected:
		fmt.Fprintf(s.out, "%s affected%s\n", shellPlural(int(res.RowsAffected), "row"), suffix)
	case client.ResultBegin:
		fmt.Fprintf(s.out, "BEGIN%s\n", suffix)
	case client.ResultCommit:
		fmt.Fprintf(s.out, "COMMIT%s\n", suffix)
	case client.ResultRollback:
		fmt.Fprintf(s.out, "ROLLBACK%s\n", suffix)
	default:
		switch keyword {
		case "COMMIT", "ROLLBACK":
			fmt.Fprintf(s.out, "%s%s\n", keyword, suffix)
		default:
			fmt.Fprintf(s.out, "Query OK%s\n", suffix)
		}
	}
	if s.interactive {
		fmt.Fprintln(s.out)
	}
}

func shellPlural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func (s *shellSession) renderRows(res *client.Result) {
	if s.format == shellFormatTSV {
		var sb strings.Builder
		for i, col := range res.Columns {
			if i > 0 {
				sb.WriteByte('\t')
			}
			sb.WriteString(col.Name)
		}
		sb.WriteByte('\n')
		for _, row := range res.Rows {
			for i, v := range row {
				if i > 0 {
					sb.WriteByte('\t')
				}
				sb.WriteString(shellTSVEscape(shellFormatCell(v)))
			}
			sb.WriteByte('\n')
		}
		fmt.Fprint(s.out, sb.String())
		return
	}
	tw := table.NewWriter()
	style := table.StyleDefault
	style.Format.Header = text.FormatDefault // keep column names as they are
	tw.SetStyle(style)
	header := make(table.Row, len(res.Columns))
	configs := make([]table.ColumnConfig, len(res.Columns))
	for i, col := range res.Columns {
		header[i] = col.Name
		configs[i] = table.ColumnConfig{Number: i + 1, Align: text.AlignLeft, AlignHeader: text.AlignLeft}
		if col.Type == client.KindInt64 || col.Type == client.KindFloat64 {
			configs[i].Align = text.AlignRight
		}
	}
	tw.AppendHeader(header)
	tw.SetColumnConfigs(configs)
	for _, row := range res.Rows {
		cells := make(table.Row, len(row))
		for i, v := range row {
			cells[i] = shellFormatCell(v)
		}
		tw.AppendRow(cells)
	}
	fmt.Fprintln(s.out, tw.Render())
}

// shellFormatCell renders a value as the shell shows it: NULL, 42, 1.5, true,
// text; floats print the shortest text that parses back to the same value.
func shellFormatCell(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return types.FormatFloat(x)
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}

// shellTSVEscape keeps one row per line: tabs, newlines and backslashes in a
// value are written as \t, \n, \r and \\.
func shellTSVEscape(s string) string {
	if !strings.ContainsAny(s, "\t\n\r\\") {
		return s
	}
	return strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}
