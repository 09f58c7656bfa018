package backoff_test

import (
	"fmt"
	"time"

	"github.com/soarkit/soarkit/internal/backoff"
)

func ExampleExponential() {
	for n := 1; n <= 5; n++ {
		fmt.Print(backoff.Exponential(500*time.Millisecond, 4*time.Second, n), " ")
	}
	fmt.Println()
	// Output: 500ms 1s 2s 4s 4s
}
