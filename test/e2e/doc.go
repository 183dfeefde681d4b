// Package e2e drives the real binaries over real HTTP: mesos-sim (the
// simulated Mesos cluster, tasks as real processes), quobyte-mesos run, and
// the stand-in Quobyte service as the service command. It uses
// examples/local.hcl, the spec of `make run`, with the master's address and
// the framework ID store of each test filled in. dashboard_test.go drives
// the framework's web dashboard in headless Chromium (chromedp); its browser
// checks skip, saying so, when Chromium is not installed.
package e2e
