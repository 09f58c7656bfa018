package nsxconn

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/soarkit/soarkit/connector"
)

// Tagger is a responder that tags the NSX VM of every device that saw a
// file. Gate it on the verdicts that should isolate a host.
type Tagger struct {
	client *Client
	tag    Tag
	name   string
}

// NewTagger returns a Tagger adding tag to VMs through client. The tag must
// name a value; the scope is optional.
func NewTagger(client *Client, tag Tag) (*Tagger, error) {
	if client == nil {
		return nil, errors.New("nsxconn: nil client")
	}
	if strings.TrimSpace(tag.Tag) == "" {
		return nil, errors.New("nsxconn: the tag value is empty")
	}
	name := "nsx-tag:" + tag.Tag
	if tag.Scope != "" {
		name = "nsx-tag:" + tag.Scope + "/" + tag.Tag
	}
	return &Tagger{client: client, tag: tag, name: name}, nil
}

// Name identifies the responder in the action log; it includes the tag, so
// a second Tagger with another tag acts independently.
func (t *Tagger) Name() string { return t.name }

// Scope is per device: one VM tag per host.
func (t *Tagger) Scope() connector.Scope { return connector.ScopeDevice }

// Respond finds the VMs named like the sighting's device and tags those that
// lack the tag.
func (t *Tagger) Respond(ctx context.Context, f connector.Finding) (connector.Result, error) {
	if f.Sighting == nil || f.Sighting.DeviceName == "" {
		return connector.Result{Status: connector.Skipped, Detail: "sighting names no device"}, nil
	}
	name := f.Sighting.DeviceName
	vms, err := t.findVMs(ctx, name)
	if err != nil {
		if errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrForbidden) {
			return connector.Result{}, connector.Permanent(err)
		}
		return connector.Result{}, err
	}
	if len(vms) == 0 {
		return connector.Result{}, connector.Permanent(fmt.Errorf("nsxconn: no NSX virtual machine is named %q", name))
	}
	var tagged []string
	for _, vm := range vms {
		if vm.HasTag(t.tag) {
			continue
		}
		if err := t.client.AddTags(ctx, vm.ExternalID, t.tag); err != nil {
			return connector.Result{}, err
		}
		tagged = append(tagged, vm.ExternalID)
	}
	if len(tagged) == 0 {
		return connector.Result{Status: connector.Unchanged, Detail: fmt.Sprintf("VM %q already tagged %q", name, t.tag.Tag)}, nil
	}
	return connector.Result{Status: connector.Acted, Detail: fmt.Sprintf("tagged VM %q (%s) with %q", name, strings.Join(tagged, ", "), t.tag.Tag)}, nil
}

// findVMs lists the VMs whose display name is exactly name. NSX filters
// display names case-sensitively, so the Carbon Black device name must match
// the vCenter VM name.
func (t *Tagger) findVMs(ctx context.Context, name string) ([]VirtualMachine, error) {
	var out []VirtualMachine
	for vm, err := range t.client.ListVirtualMachines(ctx, ListOptions{DisplayName: name}) {
		if err != nil {
			return nil, err
		}
		if vm.DisplayName == name {
			out = append(out, vm)
		}
	}
	return out, nil
}
