package carbonblacktest_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/soarkit/soarkit/carbonblack"
	"github.com/soarkit/soarkit/carbonblack/carbonblacktest"
)

const deviceActions = "/appservices/v6/orgs/"

func quarantined(t *testing.T, fake *carbonblacktest.Server, id int64) bool {
	t.Helper()
	d, ok := fake.Device(id)
	if !ok {
		t.Fatalf("device %d vanished", id)
	}
	return d.Quarantined
}

func TestLostAnswerKeepsTheDeviceAction(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	t.Logf("fault seed %d", fake.FaultSeed())
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10-LOST"})
	c := fake.Client(carbonblack.WithRetry(carbonblack.RetryPolicy{Disabled: true}))
	fake.InjectFault(carbonblacktest.Fault{Method: http.MethodPost, Path: deviceActions, LostAnswer: true, Times: 1})
	err := c.Devices.Quarantine(t.Context(), true, dev.ID)
	var ce *carbonblack.Error
	if !errors.As(err, &ce) || ce.StatusCode != 0 {
		t.Fatalf("err = %v, want a transport failure with no status", err)
	}
	if !quarantined(t, fake, dev.ID) || len(fake.DeviceActions()) != 1 {
		t.Fatalf("quarantined=%v actions=%d: the lost answer's effect must hold", quarantined(t, fake, dev.ID), len(fake.DeviceActions()))
	}
}

func TestDelayedDeviceActionLandsLater(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	dev := fake.AddDevice(carbonblack.Device{Name: "WIN10-LATE"})
	c := fake.Client(carbonblack.WithRetry(carbonblack.RetryPolicy{Disabled: true}))
	fake.InjectFault(carbonblacktest.Fault{Method: http.MethodPost, Path: deviceActions,
		DelayedEffect: time.Hour, LostAnswer: true, Times: 1})
	if err := c.Devices.Quarantine(t.Context(), true, dev.ID); err == nil {
		t.Fatal("the client got an answer to a lost action")
	}
	if quarantined(t, fake, dev.ID) || fake.PendingEffects() != 1 {
		t.Fatalf("before the delay: quarantined=%v pending=%d", quarantined(t, fake, dev.ID), fake.PendingEffects())
	}
	fake.ApplyDelayedEffects()
	if !quarantined(t, fake, dev.ID) || fake.PendingEffects() != 0 {
		t.Fatalf("after the delay: quarantined=%v pending=%d", quarantined(t, fake, dev.ID), fake.PendingEffects())
	}
}

func TestRateFaultOnDeviceSearchIsSeeded(t *testing.T) {
	fake := carbonblacktest.NewServer(t)
	fake.AddDevice(carbonblack.Device{Name: "WIN10-RATE"})
	c := fake.Client(carbonblack.WithRetry(carbonblack.RetryPolicy{Disabled: true}))
	run := func() []bool {
		fake.ClearFaults()
		fake.SetFaultSeed(11)
		fake.InjectFault(carbonblacktest.Fault{Path: "/appservices/v6/orgs/", Status: http.StatusBadGateway, Rate: 0.5})
		out := make([]bool, 40)
		for i := range out {
			_, err := c.Devices.Search(t.Context(), carbonblack.DeviceSearch{})
			out[i] = errors.Is(err, carbonblack.ErrServer)
		}
		return out
	}
	first, again := run(), run()
	failed := 0
	for i := range first {
		if first[i] != again[i] {
			t.Fatalf("request %d: same seed, different fault", i)
		}
		if first[i] {
			failed++
		}
	}
	if failed == 0 || failed == len(first) {
		t.Fatalf("rate 0.5 failed %d of %d searches", failed, len(first))
	}
}
