package boltstore

import (
	"bytes"

	"github.com/soarkit/soarkit/connector"
)

// ItemCount counts the items in state from the per-state index, without reading them (connector.ItemCounter).
func (t *tx) ItemCount(state connector.State) (int, error) {
	prefix := stateKey(state, "")
	n := 0
	c := t.b.Bucket(bucketStates).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		n++
	}
	return n, nil
}
