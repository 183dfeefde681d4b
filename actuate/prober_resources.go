package actuate

import "github.com/quobyte/quobyte-mesos/spec"

// The prober runs as a custom executor: the executor process does the work,
// its task only stands for it in Mesos. Mesos wants both to carry resources
// (an executor without cpus and mem draws a warning and is not isolated
// properly; a task must use some resource), and documents 0.01 cpus and
// 32 MiB as the least an executor should have.
var (
	minExecutorResources = spec.Resources{CPUs: 0.01, Mem: 32}
	proberTaskResources  = spec.Resources{CPUs: 0.01, Mem: 8}
)

// splitProberResources divides the prober's resources: the task gets a
// token amount, the executor the rest (and at least Mesos' minimum). The
// disk, for the fetched binary, goes to the executor's sandbox.
func splitProberResources(total spec.Resources) (exec, task spec.Resources) {
	task = proberTaskResources
	exec = spec.Resources{
		CPUs: max(fromMilli(toMilli(total.CPUs)-toMilli(task.CPUs)), minExecutorResources.CPUs),
		Mem:  max(fromMilli(toMilli(total.Mem)-toMilli(task.Mem)), minExecutorResources.Mem),
		Disk: total.Disk,
	}
	return exec, task
}
