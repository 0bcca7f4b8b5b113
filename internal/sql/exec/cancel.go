package exec

import "context"

// cancelCheckInterval is how many rows (or row pairs, in joins) an
// operator loop handles between two looks at its context. A look is an
// atomic load plus a branch, so at 1024 rows it costs nothing measurable
// while a cancelled statement stops within microseconds.
const cancelCheckInterval = 1024

// cancelCheck counts loop iterations and reports the context's error
// every cancelCheckInterval of them. The zero value is ready. Loops that
// run long without returning to their caller (a join pairing one batch
// with a large inner side, a sort or aggregate draining its input) call
// tick once per iteration, so CANCEL QUERY, statement timeouts and client
// disconnects stop them promptly. The error is the bare context error;
// the session layer turns it into CADB0506 / CADB0507.
type cancelCheck struct{ n uint32 }

func (c *cancelCheck) tick(ctx context.Context) error {
	c.n++
	if c.n%cancelCheckInterval != 0 {
		return nil
	}
	return ctx.Err()
}
