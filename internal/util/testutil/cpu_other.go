//go:build !unix

package testutil

import (
	"testing"
	"time"
)

// ProcessCPU is not measured here: it returns 0, and CPU per operation
// reads 0.
func ProcessCPU(testing.TB) time.Duration { return 0 }
