// Package apptest holds what the example connectors' tests share: running a
// connector as its main would ([Run], [RunOK]), pointing it at a test world
// through the environment ([EnvVars], [SetEnv]), checking output ([WantAll]),
// checking that it refuses a bad configuration with a usage error naming
// the wrong keys without echoing secrets ([Refusal], [CheckRefused]), for
// every secret key of a configuration type too ([SecretCases]), and
// checking the operator commands: -check-config passes against a world and
// fails for the vendor whose credential is wrong ([CheckConfig],
// [CheckConfigCases]), and -print-config hides every secret key
// ([PrintConfigHidesSecrets], [SecretKeys]).
package apptest
