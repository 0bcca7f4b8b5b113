package builtins

func dateFuncs() []*Func { return nil }
