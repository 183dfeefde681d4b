package chaos

// regressions are schedules that once broke an invariant, cut down to the
// faults that matter and written out, each with what was wrong. TestChaos
// runs them with the CI seeds.
var regressions = []struct {
	name, schedule string
}{
	{
		// Seed 4: host6 was removed while the framework resubscribed (a
		// dropped stream). Its FAILURE event went to nobody; the
		// reconciliation after the resubscription answered TASK_UNKNOWN
		// for its tasks, yet the agent stayed reachable, and the killed
		// webconsole was placed on it, waiting forever for an offer
		// (fixed in observe: whatever says the master no longer knows an
		// agent makes it unreachable).
		name: "agent removed while the framework resubscribes",
		schedule: `
seed 4
phase 9s
ha false
0.300s remove-marker host=host6 service=DATA_DEVICE arg=data
2.500s drop-stream
2.510s remove-agent host=host6
5.000s kill-task service=webconsole
5.000s kill-task service=api
`,
	},
	{
		// Seed 15: a metadata rollout killed host1's old task; host1 was
		// wiped (a new agent ID) and took the replacement with it. The
		// lost agent's slot vanished from the rollout's count while the
		// new agent had not reported, and host4's metadata was killed:
		// two down by our kills with max_parallel 1 (fixed in
		// controller: a slot lost with its agent stays down until the
		// host is back or the unreachable timeout has passed). The
		// timing is tight: about one replay in three failed before the
		// fix; controller's TestPlan_Upgrade_LostAgentKeepsItsSlotDown
		// is the exact test.
		name: "agent wiped during a rollout",
		schedule: `
seed 15
phase 12s
ha false
1.861s reload-version arg=v2
2.431s reload-invalid arg=unknown-kind
2.440s reload-placement arg=host6
3.371s remove-marker host=host4 service=DATA_DEVICE arg=data
4.995s wipe-agent host=host1
6.060s drop-kills n=4
6.123s restart-agent host=host2 d=290ms
6.547s reload-count arg=api=3,webconsole=0
8.413s wipe-agent host=host4
8.593s remove-marker host=host3 service=DATA_DEVICE arg=data
9.187s remove-marker host=host4 service=METADATA_DEVICE arg=meta
`,
	},
	{
		// Seeds 3, 12, 22, 30, 32, 37, 39: a framework restarted with a
		// placement in the spec knew its agents from reconciliation only,
		// by ID, without hostnames; each failed the placement, and the
		// new instance killed every prober, registry, API and webconsole
		// as "outside the placement" (fixed in controller: an agent the
		// placement cannot be decided for yet is unknown; and in
		// mesossim: the restarted framework is offered every agent
		// afresh, as Mesos' allocator drops a disconnected framework's
		// filters).
		name: "framework restart with a placement",
		schedule: `
seed 12
phase 6s
ha false
0.500s reload-placement arg=host6
2.000s stop-framework
2.300s start-framework
`,
	},
}
