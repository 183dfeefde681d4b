package main

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/quobyte/quobyte-mesos/cmd/quobyte-mesos/statusapi"
)

// The clients of a running framework's status API (plan --server, status)
// share how they authenticate and how they tell a refusal.

// readAuthorization is the Authorization header for the first credential
// of an --auth-file ("" without a file).
func readAuthorization(authFile string) (string, error) {
	if authFile == "" {
		return "", nil
	}
	creds, err := statusapi.ReadCredentials(authFile)
	if err != nil {
		return "", fmt.Errorf("reading --auth-file: %w", err)
	}
	return creds[0].Authorization(), nil
}

// answerError describes an answer of base other than 200 OK: its status,
// the error its body gives, and a hint when it wants a credential none was
// sent for.
func answerError(base string, resp *http.Response, body []byte, sentAuth bool) error {
	var e struct {
		Error string `json:"error"`
	}
	hint := ""
	if resp.StatusCode == http.StatusUnauthorized && !sentAuth {
		hint = " (give --auth-file)"
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s answered %s%s: %s", base, resp.Status, hint, e.Error)
	}
	return fmt.Errorf("%s answered %s%s", base, resp.Status, hint)
}
