package pgstore

import "github.com/soarkit/soarkit/connector"

// ItemCount counts the items in state with the state index, without reading them (connector.ItemCounter).
func (t *tx) ItemCount(state connector.State) (int, error) {
	var n int
	if err := t.pg.QueryRow(t.ctx, sqlItemCount, string(state)).Scan(&n); err != nil {
		return 0, dbError("count items "+string(state), err)
	}
	return n, nil
}
