package sentineloneconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/soarkit/soarkit/connector"
	"github.com/soarkit/soarkit/internal/zipx"
	"github.com/soarkit/soarkit/sentinelone"
)

// Fetch delivers the file of ev through the sightings this source reported:
// a threat's file by the configured method (agent upload or Binary Vault),
// a Deep Visibility process's image from its agent by path. An upload whose
// manifest names another hash than the evidence's is refused; the client
// opens the password-protected zip and checks the SHA1 while the file is
// read, so a file that still differs fails at its end
// (sentinelone.ErrHashMismatch). An archive that arrives damaged (cut,
// failing its checksums) is fetched again, three times in all, then is a
// permanent failure; one over the client's size limits
// (sentinelone.WithMaxDownloadBytes, the 2 GiB archive limits) is permanent
// at once. Sightings are tried in turn;
// when every agent that holds the file is offline the engine is asked to
// retry later; when no sighting of this source can deliver it, the error
// is permanent (ErrNotHeld).
func (s *Source) Fetch(ctx context.Context, ev connector.Evidence) (connector.Sample, error) {
	sha1 := strings.ToLower(ev.Hashes.SHA1)
	if len(sha1) != 40 {
		return connector.Sample{}, connector.Permanent(ErrNoSHA1)
	}
	var errs []error
	offline := 0
	tried := 0
	for _, sg := range ev.Sightings {
		if sg.Source != s.opts.Name || sg.AgentID == "" && sg.ThreatID == "" {
			continue
		}
		if sg.ThreatID == "" && sg.FilePath == "" {
			continue
		}
		tried++
		f, err := s.fetchOne(ctx, sg, sha1)
		if err == nil {
			return connector.Sample{Body: f, Name: orBase(f.Path, ev.FileName), Size: f.Size,
				Hashes: connector.Hashes{SHA1: sha1}}, nil
		}
		if ctx.Err() != nil {
			return connector.Sample{}, ctx.Err()
		}
		if errors.Is(err, sentinelone.ErrAgentOffline) {
			offline++
		}
		errs = append(errs, err)
	}
	switch {
	case tried == 0:
		return connector.Sample{}, connector.Permanent(fmt.Errorf("%w (%s)", ErrNotHeld, sha1))
	case offline == tried:
		return connector.Sample{}, connector.RetryLater(fmt.Errorf("sentineloneconn: fetching %s: %w", sha1, errors.Join(errs...)), s.opts.Fetch.OfflineRetry)
	}
	err := fmt.Errorf("sentineloneconn: fetching %s: %w", sha1, errors.Join(errs...))
	for _, e := range errs {
		if !connector.IsPermanent(e) {
			return connector.Sample{}, err // one attempt may succeed later
		}
	}
	return connector.Sample{}, connector.Permanent(err)
}

// damagedFetches is how many times a sighting's file is fetched while its
// archive arrives damaged (a cut download) before the fetch is given up.
const damagedFetches = 3

// damaged reports an archive that a new download may bring whole: cut or
// failing its checksums, as opposed to one over the size limits or with a
// wrong password, which no retry mends.
func damaged(err error) bool {
	return (errors.Is(err, zipx.ErrCorrupt) || errors.Is(err, zipx.ErrChecksum)) && !errors.Is(err, zipx.ErrLimitExceeded)
}

// fetchOne retrieves the file through one sighting; a damaged archive is
// fetched again, damagedFetches times in all.
func (s *Source) fetchOne(ctx context.Context, sg connector.Sighting, sha1 string) (*sentinelone.FetchedFile, error) {
	ff, err := s.request(ctx, sg, sha1)
	for try := 1; err != nil && damaged(err) && try < damagedFetches && ctx.Err() == nil; try++ {
		s.log.WarnContext(ctx, "sentineloneconn: fetched archive damaged; fetching it again", "sha1", sha1, "try", try, "err", err)
		ff, err = s.request(ctx, sg, sha1)
	}
	if err != nil {
		return nil, err
	}
	for _, m := range ff.Manifest {
		if m.SHA1 != "" && (ff.Path == "" || strings.EqualFold(m.Path, ff.Path)) && !strings.EqualFold(m.SHA1, sha1) {
			ff.Close()
			return nil, connector.Permanent(fmt.Errorf("sentineloneconn: the agent uploaded %s with SHA1 %s, not %s: %w",
				m.Path, m.SHA1, sha1, sentinelone.ErrHashMismatch))
		}
	}
	return ff, nil
}

// request runs the client's one-call fetch flow for one sighting.
func (s *Source) request(ctx context.Context, sg connector.Sighting, sha1 string) (*sentinelone.FetchedFile, error) {
	f := s.opts.Fetch
	switch {
	case sg.ThreatID != "" && f.Method == FetchFromCloud:
		ff, err := s.c.Threats.FetchFileFromCloud(ctx, sg.ThreatID, sentinelone.FetchOptions{Password: f.CloudPassword, ExpectedSHA1: sha1})
		return ff, classify("downloading threat "+sg.ThreatID+" from the Binary Vault", err)
	case sg.ThreatID != "":
		ff, err := s.c.Threats.FetchFile(ctx, sg.ThreatID, sentinelone.FetchOptions{Password: f.Password, ExpectedSHA1: sha1})
		return ff, classify("fetching the file of threat "+sg.ThreatID, err)
	default:
		ff, err := s.c.Agents.FetchFile(ctx, sg.AgentID, sg.FilePath, sentinelone.FetchOptions{Password: f.Password, ExpectedSHA1: sha1})
		return ff, classify(fmt.Sprintf("fetching %s from agent %s", sg.FilePath, sg.AgentID), err)
	}
}

func orBase(p, name string) string {
	if b := baseName(p); b != "" {
		return b
	}
	return name
}
