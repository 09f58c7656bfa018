package zipx

import (
	"errors"
	"path/filepath"
	"testing"
)

func TestSafePath(t *testing.T) {
	ok := map[string]string{
		"a.txt":                   "a.txt",
		"dir/":                    "dir",
		"dir/sub/file.bin":        filepath.FromSlash("dir/sub/file.bin"),
		"a/./b":                   filepath.FromSlash("a/b"),
		"a//b":                    filepath.FromSlash("a/b"),
		"...":                     "...",
		"..foo/bar..":             filepath.FromSlash("..foo/bar.."),
		"C/Users/jdoe/x.exe":      filepath.FromSlash("C/Users/jdoe/x.exe"),
		"ünïcödé/名前.txt":          filepath.FromSlash("ünïcödé/名前.txt"),
		"manifest.json":           "manifest.json",
		"a b/with space and-dash": filepath.FromSlash("a b/with space and-dash"),
	}
	for name, want := range ok {
		got, err := SafePath(name)
		if err != nil || got != want {
			t.Errorf("SafePath(%q) = %q, %v; want %q", name, got, err, want)
		}
		if err == nil && !filepath.IsLocal(got) {
			t.Errorf("SafePath(%q) = %q is not local", name, got)
		}
	}
	bad := []string{
		"",
		".",
		"./",
		"/",
		"/etc/passwd",
		"//server/share/x",
		"../evil",
		"a/../../evil",
		"a/../b", // stays inside, but only crafted archives do this
		"a/..",
		"..",
		`..\evil`,
		`a\..\..\evil`,
		`\\server\share\x`,
		`\evil`,
		`C:\evil`,
		"C:evil",
		"c:/evil",
		"file.txt:stream",
		"nul\x00byte",
		"new\nline",
		"esc\x1b[31m",
		"del\x7f",
	}
	for _, name := range bad {
		got, err := SafePath(name)
		if !errors.Is(err, ErrUnsafePath) {
			t.Errorf("SafePath(%q) = %q, %v; want ErrUnsafePath", name, got, err)
			continue
		}
		var zerr *Error
		if !errors.As(err, &zerr) || zerr.Name != name {
			t.Errorf("SafePath(%q): error %#v does not carry the name", name, err)
		}
	}
}

func FuzzSafePath(f *testing.F) {
	for _, s := range []string{"a/b", "../x", `a\b`, "/x", "C:x", "a/./b/", "..."} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		p, err := SafePath(name)
		if err != nil {
			return
		}
		if !filepath.IsLocal(p) {
			t.Fatalf("SafePath(%q) = %q is not local", name, p)
		}
		if filepath.Join("/base", p) == "/base" {
			t.Fatalf("SafePath(%q) = %q names the base directory itself", name, p)
		}
	})
}
