// Package apptest holds what the example connectors' tests share: running a
// connector as its main would ([Run], [RunOK]), pointing it at a test world
// through the environment ([EnvVars], [SetEnv]), checking output ([WantAll])
// and checking that it refuses a bad configuration with a usage error naming
// the wrong keys without echoing secrets ([Refusal], [CheckRefused]), for
// every secret key of a configuration type too ([SecretCases]).
package apptest
