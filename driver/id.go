package driver

// MaxIDLen is the longest container or exec id rtd accepts.
const MaxIDLen = 128

// ValidID reports whether id is safe as a single path element and as a
// backend's container name: 1-128 characters of [a-zA-Z0-9_.-], starting
// with a letter or digit. (A loop, not a regexp: a regexp compiled at package
// init costs every start of every binary that links this package.)
func ValidID(id string) bool {
	if len(id) == 0 || len(id) > MaxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// ValidateID returns an InvalidArgument error naming kind ("container id",
// "exec id") and id unless ValidID(id).
func ValidateID(kind, id string) error {
	if !ValidID(id) {
		return InvalidArgumentf("invalid %s %q: want 1-%d characters [a-zA-Z0-9_.-], starting with a letter or digit", kind, id, MaxIDLen)
	}
	return nil
}
