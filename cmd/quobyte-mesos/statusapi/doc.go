// Package statusapi serves the framework's read-only HTTP API and its
// Prometheus metrics:
//
//	GET  /v1/health    200 when subscribed and the plan is empty or progressing, else 503; JSON says why
//	GET  /v1/status    hosts x services, devices and rejected candidates, upgrade progress, backoffs, last reload, service health
//	GET  /v1/plan      what is pending and what is blocked, with reasons
//	GET  /v1/snapshot  the current snapshot (a file `plan --snapshot` can plan against offline)
//	POST /v1/plan      dry run: plan the posted spec against the current snapshot, apply nothing
//	POST /v1/reload    reload the spec as SIGHUP does (Config.Reload)
//	GET  /metrics      Prometheus
//
// The package reads the framework's state through the Source interface and
// never changes it; POST /v1/plan computes a plan and discards it. With
// several instances (Config.HA) every instance serves the API; ha.go says
// what an instance that does not lead answers.
//
// The API is reachable by anyone on the network, so Handler bounds request
// bodies (MaxBodyBytes) and concurrent dry runs (429 with Retry-After), and
// ConfigureServer sets the server's timeouts. With the spec's status_api {
// auth_file }, Auth requires a bearer token or basic-auth credential of that
// file on every endpoint but /v1/health, /metrics and Config.Extra (401 with
// WWW-Authenticate); Auth.Require wraps endpoints added later the same way,
// and Config.Routes (the dashboard's) get it too.
package statusapi
