package exec

import (
	"context"
	"time"
)

// SetStatsSleep replaces how a background statistics refresh waits for
// its pace (after Background).
func SetStatsSleep(s *Stats, sleep func(context.Context, time.Duration) error) { s.bg.sleep = sleep }
