package zipx

import (
	"fmt"
	"path"
	"path/filepath"
	"strings"
)

// SafePath checks that an entry name can be used as a relative path under an
// extraction directory on any common operating system, and returns it in the
// local form (OS separators, cleaned, without a trailing slash), ready for
// filepath.Join(dir, p). It refuses, with an error matching
// [ErrUnsafePath]:
//   - empty names and names that clean to nothing ("." or "./");
//   - absolute names ("/etc/passwd");
//   - any ".." element ("../evil", "a/../../evil"), even one that would stay
//     inside the directory, since it only appears in crafted archives;
//   - any backslash ("..\\evil", "\\\\server\\share", "C:\\x"): the format
//     mandates forward slashes and Windows would treat a backslash as a
//     separator;
//   - any colon (drive letters "C:x", NTFS alternate data streams "a:b");
//   - NUL and other control characters;
//   - anything else [filepath.IsLocal] rejects on this system (on Windows,
//     reserved names such as "NUL" or "COM1").
//
// SafePath only checks the name; it does not look at the file system, so
// extracting into a directory an attacker can write to (symbolic links
// planted there) needs more care, such as [os.Root].
func SafePath(name string) (string, error) {
	if reason := unsafeReason(name); reason != "" {
		return "", &Error{Op: "check path", Name: name, Err: fmt.Errorf("%w: %s", ErrUnsafePath, reason)}
	}
	return filepath.FromSlash(path.Clean(strings.TrimSuffix(name, "/"))), nil
}

func unsafeReason(name string) string {
	if name == "" {
		return "empty name"
	}
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c < 0x20 || c == 0x7f:
			return "control character"
		case c == '\\':
			return "backslash"
		case c == ':':
			return "colon (drive letter or alternate data stream)"
		}
	}
	if name[0] == '/' {
		return "absolute path"
	}
	for elem := range strings.SplitSeq(name, "/") {
		if elem == ".." {
			return `".." element`
		}
	}
	cleaned := path.Clean(strings.TrimSuffix(name, "/"))
	if cleaned == "." {
		return "name has no path elements"
	}
	if !filepath.IsLocal(filepath.FromSlash(cleaned)) {
		return "not a local path on this system"
	}
	return ""
}
