// Command soarkit-mcp serves soarkit's vendor clients and responders as
// tools for AI agents over the Model Context Protocol (MCP), on stdio (the
// MCP client starts it) or streamable HTTP:
//
//	go run ./examples/mcp -demo                          # stdio, against in-process fakes
//	go run ./examples/mcp -config mcp.yaml               # stdio, real consoles
//	go run ./examples/mcp -config mcp.yaml -transport http -listen 127.0.0.1:8765
//
// Read tools, with typed input and output schemas, paginated (pass
// next_cursor back) and bounded in size for a model's context, each result
// with a link to the vendor's console:
//
//   - vmray_hash_verdict: VMRay's verdict on a file by hash, with VTIs and IOCs;
//   - vmray_submit_sample: submit a URL or a small file and wait a bounded time;
//   - cbc_alerts, cbc_process_search, cbc_device: Carbon Black Cloud;
//   - s1_threats, s1_agents: SentinelOne;
//   - proofpoint_events: Proofpoint TAP events of a window, for a recipient.
//
// Action tools run through the connector's responders (package
// connector/carbonblackconn and connector/sentineloneconn): cbc_ban_hash,
// cbc_quarantine_device, cbc_watchlist_report, s1_threat_note,
// s1_blocklist_hash, s1_mitigate_threat, s1_isolate_agent. Every action
//
//   - is a dry run by default (actions.dry_run: true; with it false, a call
//     still needs execute: true to act);
//   - needs a reason, and passes the scope guard of the configuration:
//     allowed actions, Carbon Black policies, SentinelOne sites and groups,
//     and a budget of executed actions per hour;
//   - is approved before it executes: by nobody (approval.mode: none), by a
//     webhook that must answer {"answer":"yes"}, or by the user through an
//     MCP elicitation where the client supports it;
//   - happens once: the action log (a bbolt file, state_path) records it, and
//     the same request again answers "done-before";
//   - is written to the audit log (audit.path, JSON lines) with who (the MCP
//     client and session, the HTTP token's user), what, why and the result,
//     whether it was allowed or refused. Read tools are audited too.
//
// Configuration is a YAML file plus SOARKIT_MCP_* environment variables, with
// secrets from the environment or files; README.md lists every key and the
// configuration of common MCP clients (Claude Desktop, VS Code, any stdio or
// HTTP client). -demo starts in-process fakes of VMRay, Carbon Black Cloud,
// SentinelOne and Proofpoint TAP seeded with a small world (see DemoWorld),
// so an agent can try every tool with no accounts.
package main
