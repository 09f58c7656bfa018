package rest

import (
	"context"
	"fmt"
	"iter"
)

// PageFunc fetches the page that starts at cursor ("" for the first page) and
// returns its items and the cursor of the next page ("" when there is none).
type PageFunc[T any] func(ctx context.Context, cursor string) (items []T, next string, err error)

// Pages returns an iterator over every item of every page. It stops after a
// page whose next cursor is empty, and yields an error wrapping
// [ErrRepeatedCursor] if the vendor hands back a cursor it already returned
// (instead of looping forever). After an error the iteration ends. Breaking
// out of the loop stops fetching.
func Pages[T any](ctx context.Context, fetch PageFunc[T]) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		seen := make(map[string]struct{})
		cursor := ""
		for {
			items, next, err := fetch(ctx, cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if _, dup := seen[next]; dup {
				var zero T
				yield(zero, fmt.Errorf("%w %q", ErrRepeatedCursor, next))
				return
			}
			seen[next] = struct{}{}
			cursor = next
		}
	}
}

// Collect drains seq into a slice, stopping at the first error.
func Collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, v)
	}
	return out, nil
}
