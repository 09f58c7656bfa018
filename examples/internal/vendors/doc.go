// Package vendors holds the vendor connection settings and client wiring
// that the example connectors share: the transport settings every vendor
// section carries (ssl_verify, ca_file, proxy; ssl_verify: false is logged as
// a warning at start), the Carbon Black Cloud
// connection (explicit keys or a cbc-sdk credentials file) and the VMRay
// connection with the submission settings every VMRay analyzer uses, and the
// check that each action's verdicts lie within the VMRay connectors'
// selected_verdicts.
//
// Each example embeds these structs with `yaml:",inline"` in its own section
// struct, so the YAML keys and the environment variables that override them
// stay those of the example (for instance CBC_VMRAY_VMRAY_API_KEY), and fills
// in its own defaults.
package vendors
