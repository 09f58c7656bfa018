package sentinelone

import (
	"crypto/rand"
	"fmt"
	"unicode"
)

// Password rules of fetch-file and fetch-files (console documentation):
// 10 to 256 characters, no whitespace, and at least three of upper case,
// lower case, digits and symbols.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

// BinaryVaultPassword is the password Binary Vault (download-from-cloud)
// zips are protected with. It is not documented by the vendor; connectors
// that download from the vault use it.
const BinaryVaultPassword = "S1BinaryVault"

// ValidatePassword reports whether the console accepts pw as a fetch
// password; the error matches ErrInvalidPassword and never contains pw.
func ValidatePassword(pw string) error {
	n := len([]rune(pw))
	if n < MinPasswordLen || n > MaxPasswordLen {
		return fmt.Errorf("%w: length must be %d to %d characters", ErrInvalidPassword, MinPasswordLen, MaxPasswordLen)
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			return fmt.Errorf("%w: whitespace and control characters are not allowed", ErrInvalidPassword)
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	classes := 0
	for _, ok := range []bool{upper, lower, digit, symbol} {
		if ok {
			classes++
		}
	}
	if classes < 3 {
		return fmt.Errorf("%w: needs three of upper case, lower case, digits and symbols", ErrInvalidPassword)
	}
	return nil
}

// passwordAlphabets are the character classes GeneratePassword draws from.
// The symbols avoid quotes and backslashes, which some tools mangle.
var passwordAlphabets = []string{
	"ABCDEFGHJKLMNPQRSTUVWXYZ",
	"abcdefghijkmnopqrstuvwxyz",
	"23456789",
	"!#%+-.:=@_~",
}

// GeneratePassword returns a random 24-character password that meets the
// console's rules, with every character class present.
func GeneratePassword() string {
	const n = 24
	all := ""
	for _, a := range passwordAlphabets {
		all += a
	}
	out := make([]byte, n)
	for i := range out {
		set := all
		if i < len(passwordAlphabets) {
			set = passwordAlphabets[i]
		}
		out[i] = set[randIndex(len(set))]
	}
	// Shuffle so the guaranteed classes are not always in front.
	for i := n - 1; i > 0; i-- {
		j := randIndex(i + 1)
		out[i], out[j] = out[j], out[i]
	}
	return string(out)
}

// randIndex returns a uniform index below n from crypto/rand. Reading from
// crypto/rand never fails on supported platforms (Go 1.24+ crashes instead).
func randIndex(n int) int {
	var b [1]byte
	limit := 256 - 256%n
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
