package parser

import (
	"errors"
	"fmt"
	"math"
	"reflect"

	"github.com/camusdb/camusdb-go/internal/sql/ast"
	"github.com/camusdb/camusdb-go/internal/util/errcode"
)

var posType = reflect.TypeOf(ast.Pos{})

// equalIgnoringPos compares two syntax trees field by field, skipping
// positions. Floats compare by bits so -0.0 and 0.0 differ.
func equalIgnoringPos(a, b any) bool {
	return deepEqual(reflect.ValueOf(a), reflect.ValueOf(b))
}

func deepEqual(a, b reflect.Value) bool {
	if a.IsValid() != b.IsValid() {
		return false
	}
	if !a.IsValid() {
		return true
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return deepEqual(a.Elem(), b.Elem())
	case reflect.Struct:
		if a.Type() == posType {
			return true
		}
		for i := 0; i < a.NumField(); i++ {
			if !deepEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Slice:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !deepEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return a.Uint() == b.Uint()
	}
	panic(fmt.Sprintf("equalIgnoringPos: unhandled kind %s", a.Kind()))
}

// checkRoundTrip verifies the Format contract for a parsed statement:
// Format's text re-parses to an equal tree and formats identically.
func checkRoundTrip(stmt ast.Statement) (string, error) {
	text := ast.Format(stmt)
	again, err := Parse(text)
	if err != nil {
		return text, fmt.Errorf("Format output %q does not re-parse: %v", text, err)
	}
	if !equalIgnoringPos(stmt, again) {
		return text, fmt.Errorf("Format output %q re-parses to a different tree", text)
	}
	if text2 := ast.Format(again); text2 != text {
		return text, fmt.Errorf("Format is not stable: %q then %q", text, text2)
	}
	return text, nil
}

// errString renders a parse error for golden files; it also checks that
// the error is an *errcode.Error.
func errString(err error) string {
	var ce *errcode.Error
	if !errors.As(err, &ce) {
		return fmt.Sprintf("error without CADB code (%T): %v", err, err)
	}
	return "error: " + ce.Error()
}
