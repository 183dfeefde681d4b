package wait

import (
	"context"
	"testing"
	"time"
)

func TestSleep_WaitsOrStopsWithTheContext(t *testing.T) {
	if !Sleep(context.Background(), time.Millisecond) {
		t.Error("Sleep of an open context returned false")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	if Sleep(ctx, time.Hour) {
		t.Error("Sleep of an ended context returned true")
	}
	if time.Since(start) > time.Second {
		t.Error("Sleep of an ended context waited")
	}
}

func TestSleepOrSignal_SignalEndsTheWait(t *testing.T) {
	signal := make(chan struct{})
	close(signal)
	start := time.Now()
	if !SleepOrSignal(context.Background(), time.Hour, signal) {
		t.Error("a closed signal gave false")
	}
	if time.Since(start) > time.Second {
		t.Error("a closed signal did not end the wait")
	}
}
