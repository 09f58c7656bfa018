// Package config loads the example connectors' configuration: a YAML file
// (unknown keys are errors, so a typo never silently falls back to a
// default), then environment overrides for every key, then validation that
// names the exact key and what is wrong with it.
//
// Errors never repeat a value: a misspelt key, a value of the wrong type or a
// YAML syntax error is reported as line, column, key and problem, without the
// source excerpt go-yaml would print (which would show the credentials on the
// neighbouring lines), and environment values that fail to parse are named
// by their variable only.
//
// Every leaf key has an environment variable: the prefix, then the key path
// in upper case joined by underscores. With prefix CBC_VMRAY, the key
// vmray.api_key is CBC_VMRAY_VMRAY_API_KEY. Lists are comma-separated,
// durations use Go syntax ("90s", "5m").
//
// Credentials are [Secret]s: never required in the file, they can come from
// the environment (NAME, or NAME_FILE holding a path to read, as container
// platforms mount secrets), or from the file as a reference ("env:NAME" or
// "file:/run/secrets/name"). A Secret prints as "[REDACTED]" in logs and
// errors.
package config
