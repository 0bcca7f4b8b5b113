package histcheck

import (
	"fmt"

	"github.com/anishathalye/porcupine"
)

// RegInput is one operation on one key's register.
type RegInput struct {
	Key      int
	Op       string // "read", "write", "cas"
	Old, New int    // write: New; cas: Old -> New
}

// RegOutput is what the operation returned. unknown marks a write or cas
// whose commit was ambiguous: it may take effect at any point after its
// call (its Return is +inf), and the model lets it succeed if it can.
type RegOutput struct {
	Value   int  // read
	OK      bool // cas
	Unknown bool
}

// RegisterModel is a register per key (absent = 0), partitioned by key.
var RegisterModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[int][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(RegInput).Key
			byKey[k] = append(byKey[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(byKey))
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return 0 },
	Step: func(state, input, output any) (bool, any) {
		st, in, out := state.(int), input.(RegInput), output.(RegOutput)
		switch in.Op {
		case "read":
			return out.Value == st, st
		case "write":
			return true, in.New
		case "cas":
			switch {
			case out.Unknown:
				if st == in.Old {
					return true, in.New
				}
				return true, st
			case out.OK:
				return st == in.Old, in.New
			default:
				return st != in.Old, st
			}
		}
		return false, st
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(RegInput), output.(RegOutput)
		switch in.Op {
		case "read":
			return fmt.Sprintf("read(k%d) -> %d", in.Key, out.Value)
		case "write":
			return fmt.Sprintf("write(k%d, %d) unknown=%v", in.Key, in.New, out.Unknown)
		}
		return fmt.Sprintf("cas(k%d, %d -> %d) -> %v unknown=%v", in.Key, in.Old, in.New, out.OK, out.Unknown)
	},
}
