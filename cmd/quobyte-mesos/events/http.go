package events

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// MaxPage bounds the events one request gets.
const MaxPage = 500

// Handler serves GET /v1/events: the log's Page after ?after=SEQ (default
// 0: from the oldest), at most ?limit=N events (default and at most
// MaxPage, the newest of them).
func Handler(l *Log) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		after, limit := uint64(0), MaxPage
		if s := q.Get("after"); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "after: want an event's seq, got " + strconv.Quote(s)})
				return
			}
			after = n
		}
		if s := q.Get("limit"); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				writeJSON(w, http.StatusBadRequest, map[string]string{"error": "limit: want a positive number, got " + strconv.Quote(s)})
				return
			}
			limit = min(n, MaxPage)
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, l.After(after, limit))
	})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone
}
