package sentineloneconn

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/sentinelone"
)

// Note subtypes (the original's NOTE.SELECTED_SUBTYPES).
const (
	SubtypeVerdict = "verdict"
	SubtypeVTI     = "vti"
	SubtypeIOC     = "ioc"
)

// DefaultNoteSubtypes and DefaultNoteIOCFields are the original's defaults.
var (
	DefaultNoteSubtypes  = []string{SubtypeVerdict, SubtypeVTI, SubtypeIOC}
	DefaultNoteIOCFields = []string{"md5", "sha1", "sha256", "ipv4", "domain", "url"}
)

// noteIOCFields maps the note's IOC fields to their label and IOC values.
var noteIOCFields = map[string]struct {
	label  string
	values func(connector.Verdict) []string
}{
	"md5":    {"MD5", typed(connector.IOCMD5)},
	"sha1":   {"SHA1", typed(connector.IOCSHA1)},
	"sha256": {"SHA256", typed(connector.IOCSHA256)},
	"ipv4":   {"IPV4", ipValues(true)},
	"ipv6":   {"IPV6", ipValues(false)},
	"domain": {"DOMAIN", typed(connector.IOCDomain)},
	"url":    {"URL", typed(connector.IOCURL)},
}

func typed(t connector.IOCType) func(connector.Verdict) []string {
	return func(v connector.Verdict) []string { return sorted(v.IOCsOf(t)) }
}

func ipValues(v4 bool) func(connector.Verdict) []string {
	return func(v connector.Verdict) []string {
		var out []string
		for _, s := range v.IOCsOf(connector.IOCIP) {
			if a, err := netip.ParseAddr(s); err == nil && a.Unmap().Is4() == v4 {
				out = append(out, a.Unmap().String())
			}
		}
		return sorted(out)
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// NoteOptions configure NewNote and NoteText.
type NoteOptions struct {
	// Name is the responder's name (default "s1-note").
	Name string
	// Subtypes are the parts of the note: verdict, vti, ioc (default
	// DefaultNoteSubtypes).
	Subtypes []string
	// IOCFields are the IOC lines of the ioc part: md5, sha1, sha256, ipv4,
	// ipv6, domain, url (default DefaultNoteIOCFields).
	IOCFields []string
}

func (o *NoteOptions) check() error {
	if len(o.Subtypes) == 0 {
		o.Subtypes = slices.Clone(DefaultNoteSubtypes)
	}
	if o.IOCFields == nil {
		o.IOCFields = slices.Clone(DefaultNoteIOCFields)
	}
	for i, s := range o.Subtypes {
		s = strings.ToLower(strings.TrimSpace(s))
		if s != SubtypeVerdict && s != SubtypeVTI && s != SubtypeIOC {
			return fmt.Errorf("sentineloneconn: unknown note subtype %q (use verdict, vti or ioc)", s)
		}
		o.Subtypes[i] = s
	}
	for i, f := range o.IOCFields {
		f = strings.ToLower(strings.TrimSpace(f))
		if _, ok := noteIOCFields[f]; !ok {
			return fmt.Errorf("sentineloneconn: unknown note IOC field %q (use md5, sha1, sha256, ipv4, ipv6, domain or url)", f)
		}
		o.IOCFields[i] = f
	}
	return nil
}

// NoteText renders the original connector's threat note: the evidence SHA1,
// the verdict in capitals (subtype verdict), the sample URL, then either
// description (when not empty: the false-positive note) or the
// classifications, threat names, VTIs (unique operations, highest score
// first; subtype vti) and IOC lines ("-" when empty; subtype ioc), one item
// per line. The text
// is plain UTF-8: any name or IOC is safe in it (seed bug D.3).
func NoteText(f connector.Finding, opts NoteOptions, description string) string {
	var b strings.Builder
	v := f.Verdict
	fmt.Fprintf(&b, "Evidence SHA1: %s\n", f.Evidence.Hashes.SHA1)
	if slices.Contains(opts.Subtypes, SubtypeVerdict) {
		fmt.Fprintf(&b, "Verdict: %s\n", strings.ToUpper(v.Kind.String()))
	}
	fmt.Fprintf(&b, "Sample Url: %s\n", orDash(v.ReportURL))
	if description != "" {
		fmt.Fprintf(&b, "%s\n", description)
		return b.String()
	}
	fmt.Fprintf(&b, "Classifications: %s\n", orDash(strings.Join(sorted(v.Classifications), ", ")))
	fmt.Fprintf(&b, "Threat Names: %s\n", orDash(strings.Join(sorted(v.ThreatNames), ", ")))
	if slices.Contains(opts.Subtypes, SubtypeVTI) {
		b.WriteString("VTI's:\n")
		vtis := slices.Clone(v.VTIs)
		slices.SortStableFunc(vtis, func(a, b connector.VTI) int { return cmp.Compare(b.Score, a.Score) })
		seen := map[string]bool{}
		n := 0
		for _, x := range vtis {
			if x.Operation == "" || seen[x.Operation] {
				continue
			}
			seen[x.Operation] = true
			n++
			if x.Category != "" {
				fmt.Fprintf(&b, "- %s: %s (score %d)\n", x.Category, x.Operation, x.Score)
			} else {
				fmt.Fprintf(&b, "- %s (score %d)\n", x.Operation, x.Score)
			}
		}
		if n == 0 {
			b.WriteString("-\n")
		}
	}
	if slices.Contains(opts.Subtypes, SubtypeIOC) && len(opts.IOCFields) > 0 {
		b.WriteString("IOC's:\n")
		for _, field := range opts.IOCFields {
			m := noteIOCFields[field]
			fmt.Fprintf(&b, "%s: %s\n", m.label, orDash(strings.Join(m.values(v), ", ")))
		}
	}
	return b.String()
}

func orDash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}

// Note is a responder that writes the VMRay result as a note on every
// threat of the file (one per sighting with a threat id). A note with the
// same text already on the threat is Unchanged, so the note is never
// duplicated.
type Note struct {
	c    *sentinelone.Client
	opts NoteOptions
}

// NewNote returns a threat note responder.
func NewNote(c *sentinelone.Client, opts NoteOptions) (*Note, error) {
	if c == nil {
		return nil, errors.New("sentineloneconn: nil client")
	}
	if opts.Name == "" {
		opts.Name = "s1-note"
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	return &Note{c: c, opts: opts}, nil
}

// Name returns the responder's name.
func (n *Note) Name() string { return n.opts.Name }

// Scope is per sighting (per threat).
func (n *Note) Scope() connector.Scope { return connector.ScopeSighting }

// Respond adds the note to the sighting's threat unless it is there.
func (n *Note) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	tid := threatID(f)
	if tid == "" {
		return skipped("the sighting is not a SentinelOne threat")
	}
	return addNote(ctx, n.c, tid, NoteText(f, n.opts, ""))
}

// threatID is the finding's SentinelOne threat id, or "".
func threatID(f connector.Finding) string {
	if f.Sighting == nil {
		return ""
	}
	return f.Sighting.ThreatID
}

// addNote writes text on the threat unless an identical note exists.
func addNote(ctx context.Context, c *sentinelone.Client, tid, text string) (connector.Result, error) {
	has, err := hasNote(ctx, c, tid, text)
	if err != nil {
		return connector.Result{}, err
	}
	if has {
		return unchanged("threat %s already has the note", tid)
	}
	n, err := c.Threats.AddNote(ctx, sentinelone.ThreatFilter{IDs: []string{tid}}, text)
	if err != nil {
		return connector.Result{}, classify("adding a note to threat "+tid, err)
	}
	if n == 0 {
		return connector.Result{}, connector.Permanent(fmt.Errorf("sentineloneconn: threat %s does not exist (no note added)", tid))
	}
	return acted("noted threat %s", tid)
}

func hasNote(ctx context.Context, c *sentinelone.Client, tid, text string) (bool, error) {
	want := strings.TrimSpace(text)
	for note, err := range c.Threats.AllNotes(ctx, tid, sentinelone.NoteListOptions{}) {
		if err != nil {
			return false, classify("listing the notes of threat "+tid, err)
		}
		if strings.TrimSpace(note.Text) == want {
			return true, nil
		}
	}
	return false, nil
}
