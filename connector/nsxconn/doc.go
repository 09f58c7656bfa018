// Package nsxconn tags VMware NSX virtual machines from soarkit findings: the
// last action of the Proofpoint TAP to Carbon Black flow, which marks the VM
// of an infected host so that NSX distributed-firewall groups keyed on the tag
// can isolate it.
//
// It holds a minimal typed [Client] for the two NSX Manager calls the action
// needs, and a [Tagger] responder built on it:
//
//	GET  /api/v1/fabric/virtual-machines?display_name=<name>   find the VM (external_id, current tags)
//	POST /api/v1/fabric/virtual-machines?action=add_tags        add tags to it (204 No Content)
//
// add_tags adds to the VM's existing tags instead of replacing them (the
// older update_tags action, and the Policy API's realized-state update_tags,
// replace the whole list, which would silently drop tags other tools set).
// The Tagger looks the VM up by the Carbon Black device name of each sighting
// (one action per device), reports Unchanged when the tag is already there,
// and fails permanently when no VM has that name (a physical host, or a name
// NSX does not know), so the reason is recorded instead of retried forever.
//
// Authentication is HTTP Basic with an NSX Manager user; TLS verification is
// on unless [WithInsecureSkipVerify] is given (use [WithCACertPEM] for a
// private CA). The fake in package nsxtest serves both calls for tests and
// demos.
package nsxconn
