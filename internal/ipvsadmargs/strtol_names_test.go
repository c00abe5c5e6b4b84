package ipvsadmargs

// strtol and strtoul are Strtol and Strtoul on strings, the names
// strtol_test.go calls them by.
func strtol(s string, base int) (int64, int, bool) { return Strtol(s, base) }

func strtoul(s string, base int) (uint64, int, bool) { return Strtoul(s, base) }
