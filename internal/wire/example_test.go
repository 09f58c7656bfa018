package wire_test

import (
	"fmt"

	"github.com/soarkit/soarkit/internal/wire"
)

func ExampleParseTime() {
	for _, s := range []string{"2024-05-27T07:48:11", "2024-05-27 09:48:11+0200", "None"} {
		t, err := wire.ParseTime(s)
		fmt.Println(t, err)
	}
	// Output:
	// 2024-05-27 07:48:11 +0000 UTC <nil>
	// 2024-05-27 07:48:11 +0000 UTC <nil>
	// 0001-01-01 00:00:00 +0000 UTC <nil>
}
