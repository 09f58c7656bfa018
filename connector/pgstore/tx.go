package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/soarkit/soarkit/connector"
)

// tx adapts a pgx transaction to connector.Tx. Every call runs with the context of the View or Update it belongs to.
type tx struct {
	ctx      context.Context
	pg       pgx.Tx
	readOnly bool
}

func (t *tx) writeCheck() error {
	if t.readOnly {
		return connector.ErrReadOnly
	}
	return nil
}

func (t *tx) Checkpoint(source string) (connector.Checkpoint, error) {
	var cp []byte
	err := t.pg.QueryRow(t.ctx, sqlCheckpoint, source).Scan(&cp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbError("checkpoint "+source, err)
	}
	if cp == nil {
		cp = []byte{}
	}
	return connector.Checkpoint(cp), nil
}

func (t *tx) SetCheckpoint(source string, cp connector.Checkpoint) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if cp == nil {
		cp = connector.Checkpoint{}
	}
	if _, err := t.pg.Exec(t.ctx, sqlSetCheckpoint, source, []byte(cp)); err != nil {
		return dbError("set checkpoint "+source, err)
	}
	return nil
}

func (t *tx) Item(key connector.Key) (connector.Item, bool, error) {
	var raw []byte
	err := t.pg.QueryRow(t.ctx, sqlItem, key.String()).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return connector.Item{}, false, nil
	}
	if err != nil {
		return connector.Item{}, false, dbError("item "+key.String(), err)
	}
	it, err := decodeItem(key.String(), raw)
	return it, err == nil, err
}

func decodeItem(key string, raw []byte) (connector.Item, error) {
	var it connector.Item
	if err := json.Unmarshal(raw, &it); err != nil {
		return connector.Item{}, fmt.Errorf("pgstore: item %s: %w", key, err)
	}
	return it, nil
}

// nextAttempt returns when the item's failed step is due again (connector.RetryState.Next), for the claimable index:
// nil when its last try did not fail.
func nextAttempt(it connector.Item) *time.Time {
	if it.Retry == nil || it.Retry.Next.IsZero() {
		return nil
	}
	next := it.Retry.Next
	return &next
}

func (t *tx) PutItem(it connector.Item) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if it.Key.IsZero() {
		return errors.New("pgstore: item without key")
	}
	raw, err := json.Marshal(it)
	if err != nil {
		return fmt.Errorf("pgstore: item %s: %w", it.Key, err)
	}
	_, err = t.pg.Exec(t.ctx, sqlPutItem, it.Key.String(), string(it.State), it.Updated, nextAttempt(it), string(raw))
	if err != nil {
		return dbError("put item "+it.Key.String(), err)
	}
	return nil
}

// Items reads the items in state in pages of itemsPageSize, so the caller may use tx between items.
func (t *tx) Items(state connector.State) iter.Seq2[connector.Item, error] {
	return func(yield func(connector.Item, error) bool) {
		after := ""
		for {
			page, err := t.itemsPage(state, after)
			if err != nil {
				yield(connector.Item{}, err)
				return
			}
			for _, it := range page {
				if !yield(it, nil) {
					return
				}
			}
			if len(page) < itemsPageSize {
				return
			}
			after = page[len(page)-1].Key.String()
		}
	}
}

func (t *tx) itemsPage(state connector.State, after string) ([]connector.Item, error) {
	rows, err := t.pg.Query(t.ctx, sqlItemsPage, string(state), after, itemsPageSize)
	if err != nil {
		return nil, dbError("items "+string(state), err)
	}
	defer rows.Close()
	var page []connector.Item
	for rows.Next() {
		var key string
		var raw []byte
		if err := rows.Scan(&key, &raw); err != nil {
			return nil, dbError("items "+string(state), err)
		}
		it, err := decodeItem(key, raw)
		if err != nil {
			return nil, err
		}
		page = append(page, it)
	}
	if err := rows.Err(); err != nil {
		return nil, dbError("items "+string(state), err)
	}
	return page, nil
}

func (t *tx) Alias(h connector.Key) (connector.Key, bool, error) {
	var item string
	err := t.pg.QueryRow(t.ctx, sqlAlias, h.String()).Scan(&item)
	if errors.Is(err, pgx.ErrNoRows) {
		return connector.Key{}, false, nil
	}
	if err != nil {
		return connector.Key{}, false, dbError("alias "+h.String(), err)
	}
	k, err := connector.ParseKey(item)
	if err != nil {
		return connector.Key{}, false, fmt.Errorf("pgstore: alias %s: %w", h, err)
	}
	return k, true, nil
}

func (t *tx) PutAlias(h connector.Key, item connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if h.IsZero() || item.IsZero() {
		return fmt.Errorf("pgstore: alias %q -> %q: both keys are required", h, item)
	}
	if _, err := t.pg.Exec(t.ctx, sqlPutAlias, h.String(), item.String()); err != nil {
		return dbError("put alias "+h.String(), err)
	}
	return nil
}

func (t *tx) Action(k connector.ActionKey) (connector.Action, bool, error) {
	var raw []byte
	err := t.pg.QueryRow(t.ctx, sqlAction, k.Item.String(), k.Responder, k.Target).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return connector.Action{}, false, nil
	}
	if err != nil {
		return connector.Action{}, false, dbError(fmt.Sprintf("action %s/%s", k.Responder, k.Item), err)
	}
	var a connector.Action
	if err := json.Unmarshal(raw, &a); err != nil {
		return connector.Action{}, false, fmt.Errorf("pgstore: action %s/%s: %w", k.Responder, k.Item, err)
	}
	return a, true, nil
}

func (t *tx) PutAction(a connector.Action) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	raw, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("pgstore: action %s/%s: %w", a.Responder, a.Item, err)
	}
	if _, err := t.pg.Exec(t.ctx, sqlPutAction, a.Item.String(), a.Responder, a.Target, string(raw)); err != nil {
		return dbError(fmt.Sprintf("put action %s/%s", a.Responder, a.Item), err)
	}
	return nil
}

// Actions reads the item's action-log records in one query (an item has a handful).
func (t *tx) Actions(item connector.Key) iter.Seq2[connector.Action, error] {
	return func(yield func(connector.Action, error) bool) {
		rows, err := t.pg.Query(t.ctx, sqlActions, item.String())
		if err != nil {
			yield(connector.Action{}, dbError("actions of "+item.String(), err))
			return
		}
		var list []connector.Action
		for rows.Next() {
			var raw []byte
			var a connector.Action
			if err := rows.Scan(&raw); err != nil {
				rows.Close()
				yield(connector.Action{}, dbError("actions of "+item.String(), err))
				return
			}
			if err := json.Unmarshal(raw, &a); err != nil {
				rows.Close()
				yield(connector.Action{}, fmt.Errorf("pgstore: action of %s: %w", item, err))
				return
			}
			list = append(list, a)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			yield(connector.Action{}, dbError("actions of "+item.String(), err))
			return
		}
		for _, a := range list {
			if !yield(a, nil) {
				return
			}
		}
	}
}

// DeleteItem removes the item with its aliases and action-log records in one statement.
func (t *tx) DeleteItem(key connector.Key) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if _, err := t.pg.Exec(t.ctx, sqlDeleteItem, key.String()); err != nil {
		return dbError("delete item "+key.String(), err)
	}
	return nil
}
