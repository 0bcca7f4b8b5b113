package auth

import (
	"context"
	"testing"
	"time"

	"github.com/camusdb/camusdb-go/internal/sql/catalog/catalogtest"
)

// FuzzSCRAM feeds arbitrary client-first and client-final messages to the
// parsers and to a whole exchange: errors are fine, panics are not, and
// nothing but the right proof authenticates.
func FuzzSCRAM(f *testing.F) {
	f.Add("n,,n=,r=fyko+d2lbbFgONRv9qkxdawL", "c=biws,r=fyko+d2lbbFgONRv9qkxdawL,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
	f.Add("y,,n=user,r=abc,ext=1", "c=eSws,r=abc,x=y,p=AAAA")
	f.Add("p=tls-unique,,n=,r=a", ",p=")
	f.Add("n,a=x,n=,r=a", "c=,r=,p=")
	f.Add("", "")
	a, err := New(Config{DB: catalogtest.NewMemDB(), FailureDelay: time.Nanosecond, MaxFailureDelay: time.Nanosecond})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, first, final string) {
		_, _ = ParseClientFirst(first)
		_, _ = ParseClientFinal(final)
		ctx := context.Background()
		e, err := a.Begin(ctx, "nobody", remote)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.Start(ctx, MechanismSCRAM, []byte(first)); err != nil {
			return
		}
		if _, err := e.Finish(ctx, []byte(final)); err == nil {
			t.Fatalf("unknown user authenticated with %q / %q", first, final)
		}
	})
}
