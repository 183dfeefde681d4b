package events

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)

func seqs(p Page) []uint64 {
	out := []uint64{}
	for _, e := range p.Events {
		out = append(out, e.Seq)
	}
	return out
}

func TestLog_BoundedOldestFirst(t *testing.T) {
	l := NewLog(3, func() time.Time { return t0 })
	if p := l.After(0, 0); len(p.Events) != 0 || p.Last != 0 || p.Oldest != 0 {
		t.Fatalf("empty log: %+v", p)
	}
	for i := 1; i <= 5; i++ {
		l.Add(Event{Type: Launch, Text: fmt.Sprint(i)})
	}
	for _, tc := range []struct {
		after      uint64
		limit      int
		want       string
		missed     uint64
		last, olds uint64
	}{
		{0, 0, "[3 4 5]", 2, 5, 3}, // 1 and 2 were dropped
		{3, 0, "[4 5]", 0, 5, 3},   // only what is new
		{5, 0, "[]", 0, 5, 3},      // nothing new
		{0, 2, "[4 5]", 3, 5, 3},   // the newest two
		{9, 0, "[3 4 5]", 2, 5, 3}, // a seq of another log: from the start
		{1, 0, "[3 4 5]", 1, 5, 3}, // 2 was dropped
	} {
		p := l.After(tc.after, tc.limit)
		if got := fmt.Sprint(seqs(p)); got != tc.want || p.Missed != tc.missed || p.Last != tc.last || p.Oldest != tc.olds {
			t.Errorf("After(%d, %d) = %s missed %d last %d oldest %d; want %s missed %d last %d oldest %d",
				tc.after, tc.limit, got, p.Missed, p.Last, p.Oldest, tc.want, tc.missed, tc.last, tc.olds)
		}
	}
	if p := l.After(4, 0); p.Events[0].Text != "5" || !p.Events[0].Time.Equal(t0) {
		t.Errorf("event 5 = %+v", p.Events[0])
	}
	other := NewLog(3, func() time.Time { return t0.Add(time.Second) })
	if l.After(0, 0).Log == "" || other.After(0, 0).Log == l.After(0, 0).Log {
		t.Errorf("logs started at different times have names %q and %q", l.After(0, 0).Log, other.After(0, 0).Log)
	}
}

// TestLog_AddNBuildsOnlyWhatItKeeps: a batch larger than the log is
// numbered in full and only its newest events are built, as if each had
// been added and the older ones pushed out.
func TestLog_AddNBuildsOnlyWhatItKeeps(t *testing.T) {
	l := NewLog(3, func() time.Time { return t0 })
	l.Add(Event{Type: Reload, Text: "first"})
	var built []int
	l.AddN(5, func(i int) Event {
		built = append(built, i)
		return Event{Type: Failure, Text: fmt.Sprint(i)}
	})
	if fmt.Sprint(built) != "[2 3 4]" {
		t.Errorf("built events %v, want only the three the log keeps: [2 3 4]", built)
	}
	p := l.After(1, 0)
	var texts []string
	for _, e := range p.Events {
		texts = append(texts, e.Text)
		if !e.Time.Equal(t0) || !e.Warning {
			t.Errorf("event %d: time %v, warning %v; want stamped as Add does", e.Seq, e.Time, e.Warning)
		}
	}
	if got := fmt.Sprint(seqs(p), texts, p.Missed, p.Last); got != "[4 5 6] [2 3 4] 2 6" {
		t.Errorf("after the first event: seqs, texts, missed, last = %s; want [4 5 6] [2 3 4] 2 6", got)
	}
	l.AddN(2, func(i int) Event { return Event{Type: Launch, Text: fmt.Sprint("b", i)} })
	if got := fmt.Sprint(seqs(l.After(0, 0))); got != "[6 7 8]" {
		t.Errorf("a batch smaller than the log: seqs %s, want [6 7 8]", got)
	}
}

func TestLog_WarningFromType(t *testing.T) {
	l := NewLog(10, nil)
	l.Add(Event{Type: Failure})
	l.Add(Event{Type: Launch})
	l.Add(Event{Type: Agent, Warning: true})
	p := l.After(0, 0)
	if !p.Events[0].Warning || p.Events[1].Warning || !p.Events[2].Warning {
		t.Errorf("warnings: %+v", p.Events)
	}
	var nilLog *Log
	nilLog.Add(Event{Type: Launch}) // must not panic
}

func TestLog_ConcurrentAddsGetDistinctSeqs(t *testing.T) {
	l := NewLog(1000, nil)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				l.Add(Event{Type: Kill})
			}
		}()
	}
	wg.Wait()
	p := l.After(0, 0)
	if len(p.Events) != 800 || p.Last != 800 {
		t.Fatalf("%d events, last %d", len(p.Events), p.Last)
	}
	for i, e := range p.Events {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
	}
}

func TestHandler(t *testing.T) {
	l := NewLog(10, nil)
	for range 4 {
		l.Add(Event{Type: Reload})
	}
	h := Handler(l)
	for _, tc := range []struct {
		query string
		code  int
		want  string
	}{
		{"", 200, "[1 2 3 4]"},
		{"?after=2", 200, "[3 4]"},
		{"?limit=1", 200, "[4]"},
		{"?after=x", 400, ""},
		{"?limit=0", 400, ""},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/events"+tc.query, nil))
		if rec.Code != tc.code {
			t.Errorf("%s: %d, want %d: %s", tc.query, rec.Code, tc.code, rec.Body)
			continue
		}
		if tc.code != 200 {
			continue
		}
		var p Page
		if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		if got := fmt.Sprint(seqs(p)); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.query, got, tc.want)
		}
	}
}
