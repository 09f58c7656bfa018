// Package nsxtest is an in-process fake of the two NSX Manager inventory
// calls that package nsxconn uses: listing virtual machines (filtered by
// display_name or external_id, paged with cursor and page_size) and adding
// tags (POST ?action=add_tags, answering 204).
//
// Seed VMs with [Server.AddVM], inspect them with [Server.VM] and
// [Server.Requests], and inject faults with [Server.InjectFault]. [New] needs
// no testing.TB, so the fake also runs inside standalone binaries.
//
// Where it differs from NSX: only these two calls exist (others answer 404
// with an NSX error body); a tag whose scope and value the VM already has is
// not added twice, as NSX does; tag and scope length limits, the 30-tag
// maximum and the Policy API are not modelled; cursors are opaque offsets.
package nsxtest
