package soarkit

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// clientPackages are the vendor clients that share one API surface.
var clientPackages = []string{"vmray", "carbonblack", "sentinelone", "proofpoint"}

// sharedTypes must be declared by every client package, as defined types
// (not aliases of the internal engine's types) with a doc comment, so that
// go doc shows their fields and methods. ErrorDetail is the exception: it
// aliases an unnamed struct, which go doc shows in full, so that Error
// converts to and from the engine's error.
var sharedTypes = []string{"Client", "ConfigError", "Error", "ErrorDetail", "Option", "Request", "ResponseMetadata", "RetryPolicy"}

// sharedFuncs must be declared by every client package. (WithMaxDownloadBytes
// exists only where the vendor serves files, so not in proofpoint.)
var sharedFuncs = []string{
	"New", "WithResponseMetadata", "WithHTTPClient", "WithRetry", "WithRateLimit", "WithLogger",
	"WithObserver", "WithUserAgent", "WithMaxResponseBytes", "WithAttemptTimeout",
	"WithCACertPEM", "WithTLSConfig", "WithInsecureSkipVerify", "WithProxy", "ParseTime",
	"Client.Do", "Client.BaseURL",
	"Error.Error", "Error.Unwrap", "Error.Is", "Error.Temporary", "Error.HTTPStatus", "ConfigError.Error",
}

// sharedSentinels must be exported by every client package.
var sharedSentinels = []string{
	"ErrBadRequest", "ErrUnauthorized", "ErrForbidden", "ErrNotFound", "ErrRateLimited", "ErrServer",
	"ErrMalformedResponse", "ErrResponseTooLarge", "ErrInvalidRequest", "ErrRepeatedCursor",
}

type exported struct {
	types   map[string]*ast.TypeSpec
	typeDoc map[string]string
	funcs   map[string]bool
	vars    map[string]bool
}

func readExports(t *testing.T, dir string) exported {
	t.Helper()
	ex := exported{types: map[string]*ast.TypeSpec{}, typeDoc: map[string]string{}, funcs: map[string]bool{}, vars: map[string]bool{}}
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() {
					continue
				}
				key := d.Name.Name
				if d.Recv != nil {
					rt := d.Recv.List[0].Type
					if st, ok := rt.(*ast.StarExpr); ok {
						rt = st.X
					}
					if id, ok := rt.(*ast.Ident); ok {
						key = id.Name + "." + key
					}
				}
				ex.funcs[key] = true
			case *ast.GenDecl:
				for _, s := range d.Specs {
					switch s := s.(type) {
					case *ast.TypeSpec:
						if !s.Name.IsExported() {
							continue
						}
						ex.types[s.Name.Name] = s
						doc := s.Doc.Text()
						if doc == "" {
							doc = d.Doc.Text()
						}
						ex.typeDoc[s.Name.Name] = doc
					case *ast.ValueSpec:
						for _, n := range s.Names {
							if n.IsExported() {
								ex.vars[n.Name] = true
							}
						}
					}
				}
			}
		}
	}
	return ex
}

// The four clients export the same set of shared names, and the shared types
// are this package's own, documented types rather than aliases of the
// internal engine.
func TestClientsExportTheSameSurface(t *testing.T) {
	for _, pkg := range clientPackages {
		ex := readExports(t, pkg)
		for _, name := range sharedTypes {
			spec, ok := ex.types[name]
			switch {
			case !ok:
				t.Errorf("%s: type %s missing", pkg, name)
				continue
			case ex.typeDoc[name] == "":
				t.Errorf("%s: type %s has no doc comment", pkg, name)
			}
			if sel, ok := spec.Type.(*ast.SelectorExpr); ok {
				t.Errorf("%s: type %s is declared from %s.%s; declare its fields in the package", pkg, name, sel.X, sel.Sel)
			}
			if spec.Assign.IsValid() && name != "ErrorDetail" {
				t.Errorf("%s: type %s is an alias; make it a defined type", pkg, name)
			}
			if st, ok := spec.Type.(*ast.StructType); ok && name != "Client" {
				for _, f := range st.Fields.List {
					if len(f.Names) == 0 {
						t.Errorf("%s: %s embeds a field; declare its fields so go doc shows them", pkg, name)
					}
				}
			}
		}
		for _, name := range sharedFuncs {
			if !ex.funcs[name] {
				t.Errorf("%s: func %s missing", pkg, name)
			}
		}
		for _, name := range sharedSentinels {
			if !ex.vars[name] {
				t.Errorf("%s: sentinel %s missing", pkg, name)
			}
		}
	}
	// The shared types have the same fields in every package.
	fields := func(spec *ast.TypeSpec) []string {
		st, ok := spec.Type.(*ast.StructType)
		if !ok {
			return nil
		}
		var out []string
		for _, f := range st.Fields.List {
			for _, n := range f.Names {
				out = append(out, n.Name)
			}
		}
		return out
	}
	first := readExports(t, clientPackages[0])
	for _, pkg := range clientPackages[1:] {
		ex := readExports(t, pkg)
		for _, name := range []string{"Error", "ConfigError", "Request", "ResponseMetadata"} {
			a, b := first.types[name], ex.types[name]
			if a == nil || b == nil {
				continue
			}
			if fa, fb := fields(a), fields(b); !slices.Equal(fa, fb) {
				t.Errorf("%s.%s fields %v differ from %s.%s %v", pkg, name, fb, clientPackages[0], name, fa)
			}
		}
	}
}

// notGo lists doc-comment blocks that are tables or listings, not Go code.
var notGo = map[string]bool{"sentinelone/ratelimits.go": true}

// Every Go code block in the clients' doc comments is compiled by a test of
// its package: each of its lines appears (whitespace aside) in one of the
// package's _test.go files, which the compiler checks.
func TestDocSnippetsAreCompiled(t *testing.T) {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for _, pkg := range clientPackages {
		files, err := filepath.Glob(filepath.Join(pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		compiled := map[string]bool{}
		for _, name := range files {
			if !strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for line := range strings.SplitSeq(string(src), "\n") {
				compiled[norm(strings.TrimPrefix(strings.TrimSpace(line), "//"))] = true
			}
		}
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") || notGo[filepath.ToSlash(name)] {
				continue
			}
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range strings.Split(string(src), "\n") {
				code, ok := strings.CutPrefix(line, "//\t")
				if !ok || norm(code) == "" {
					continue
				}
				if !compiled[norm(code)] {
					t.Errorf("%s:%d: doc snippet line is compiled by no test of %s: %s", name, i+1, pkg, strings.TrimSpace(code))
				}
			}
		}
	}
}

// The generated getters match the response types: running the generator
// again changes nothing.
func TestGettersAreGenerated(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator with go run")
	}
	gen, err := filepath.Abs("internal/gengetters/main.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, pkg := range []string{"vmray", "carbonblack", "sentinelone"} {
		out := filepath.Join(t.TempDir(), "getters.go")
		cmd := exec.Command("go", "run", gen, "-o", out)
		cmd.Dir = pkg
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: go run gengetters: %v\n%s", pkg, err, b)
		}
		want, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(pkg, "getters.go"))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("%s/getters.go is stale: run go generate ./%s", pkg, pkg)
		}
	}
}
