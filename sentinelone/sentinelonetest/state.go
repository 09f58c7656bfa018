package sentinelonetest

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/soarkit/soarkit/sentinelone"
)

// Default scope every server starts with; seeded objects without scope ids
// land here.
const (
	DefaultAccountID   = "433241117337583618"
	DefaultAccountName = "Acme"
	DefaultSiteID      = "475482421366727779"
	DefaultSiteName    = "Default site"
	DefaultGroupID     = "475482421375116388"
	DefaultGroupName   = "Default Group"
)

// File is the content an agent uploads for a fetch, or the Binary Vault copy
// of a threat file.
type File struct {
	// Path is the original path on the endpoint, for example
	// `C:\Users\jdoe\Downloads\invoice.exe`. Threat files default to the
	// threat's filePath.
	Path string
	// Content is the file. For large files set Open and Size instead.
	Content []byte
	// Open returns a fresh reader of Size bytes each time the zip is built,
	// so files of any size stream without being held in memory.
	Open func() io.Reader
	Size int64
	// SHA1 is what manifest.json reports; empty computes it from the content
	// (a different value simulates an agent that reports a wrong hash).
	SHA1 string
	// Reason, when set, makes the agent fail to collect the file: the zip
	// then holds only manifest.json with this reason.
	Reason string
}

func (f *File) reader() io.Reader {
	if f.Open != nil {
		return io.LimitReader(f.Open(), f.Size)
	}
	return strings.NewReader(string(f.Content))
}

func (f *File) size() int64 {
	if f.Open != nil {
		return f.Size
	}
	return int64(len(f.Content))
}

type agentRec struct {
	a       sentinelone.Agent
	actions []string
	files   map[string]File // by normalised path
}

type threatRec struct {
	t       sentinelone.Threat
	notes   []sentinelone.Note
	actions []string
	file    *File
	vault   *File
}

// pendingUpload is a fetch the agent has not answered yet.
type pendingUpload struct {
	due          time.Time
	agentID      string
	threatID     string
	paths        []string
	password     string
	activityType int
	batch        string
}

// upload is a zip an agent uploaded: its password and entries.
type upload struct {
	password string
	manifest []sentinelone.ManifestEntry
	files    []zipFile
}

type zipFile struct {
	name string
	file File
}

type dvQuery struct {
	id      string
	polls   int
	state   string
	events  []sentinelone.DVEvent
	created time.Time
}

type pqQuery struct {
	id     string
	pings  int
	result sentinelone.PowerQueryResult
}

type state struct {
	seq      int64
	accounts []sentinelone.Account
	sites    []sentinelone.Site
	groups   []sentinelone.Group
	agents   []*agentRec
	threats  []*threatRec
	// agentByID and threatByID index agents and threats, so a lookup does not scan them all.
	agentByID  map[string]*agentRec
	threatByID map[string]*threatRec
	// threatsWithID and threatsOfAgent hold the positions in threats of
	// each id's and each agent's threats, so that a request naming ids or
	// agents, and an agent's count of active threats, look at those alone.
	threatsWithID  map[string][]int
	threatsOfAgent map[string][]int
	// examined counts the threats requests looked at, for tests that hold
	// a request to the threats it answers with.
	examined     int
	activities   []sentinelone.Activity
	restrictions []sentinelone.Restriction
	iocs         []sentinelone.IOC
	dvEvents     []sentinelone.DVEvent
	dvQueries    map[string]*dvQuery
	pqResults    map[string]sentinelone.PowerQueryResult
	pqQueries    map[string]*pqQuery
	pending      []*pendingUpload
	uploads      map[string]*upload // by activity id
	vaultLinks   map[string]string  // token -> threat id
	system       sentinelone.SystemInfo
}

func (st *state) init() {
	st.seq = 1857340219386610000
	st.dvQueries = map[string]*dvQuery{}
	st.agentByID = map[string]*agentRec{}
	st.threatByID = map[string]*threatRec{}
	st.threatsWithID = map[string][]int{}
	st.threatsOfAgent = map[string][]int{}
	st.pqResults = map[string]sentinelone.PowerQueryResult{}
	st.pqQueries = map[string]*pqQuery{}
	st.uploads = map[string]*upload{}
	st.vaultLinks = map[string]string{}
	st.system = sentinelone.SystemInfo{Build: "43", Version: "Z SP5", Release: "Z", Patch: "5", LatestAgentVersion: "24.1.4.257"}
}

// nextID returns a fresh 19-digit decimal id, like the console's.
func (st *state) nextID() string {
	st.seq++
	return strconv.FormatInt(st.seq, 10)
}

// hexID returns a fresh 32-hex-digit id with a prefix (uuids, query ids).
func (st *state) hexID(prefix string) string {
	st.seq++
	return fmt.Sprintf("%s%016x%016x", prefix, uint64(0x5c2a0a442c554a2b), st.seq)
}

func (st *state) agent(id string) *agentRec { return st.agentByID[id] }

func (st *state) threat(id string) *threatRec { return st.threatByID[id] }

// normPath folds a path for lookups (case-insensitive, either slash).
func normPath(p string) string {
	return strings.ToLower(strings.Trim(strings.ReplaceAll(p, `\`, "/"), "/"))
}

// entryName is where agents store a file in the zip: the path without the
// drive colon and leading separators, with forward slashes.
func entryName(path string) string {
	return strings.TrimLeft(strings.ReplaceAll(strings.ReplaceAll(path, ":", ""), `\`, "/"), "/")
}
