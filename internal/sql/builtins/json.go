package builtins

func jsonFuncs() []*Func { return nil }
