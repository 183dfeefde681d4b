package observe

import (
	"context"
	"fmt"
	"testing"

	mesos "github.com/mesos/mesos-go/api/v1/lib"

	"github.com/quobyte/quobyte-mesos/internal/benchcpu"
)

// BenchmarkHandleEvent_Update40kTasks folds status updates into the state of
// a 10,000-agent, 40,000-task cluster, reading a snapshot every 1,000
// updates (a controller loop reads far less often than updates arrive).
func BenchmarkHandleEvent_Update40kTasks(b *testing.B) {
	o := New(Config{Caller: &callRecorder{}})
	ctx := context.Background()
	for i := 0; i < 40000; i++ {
		o.HandleEvent(ctx, update(fmt.Sprintf("quobyte.data.c.%d", i), fmt.Sprintf("agent-%d", i%10000), mesos.TASK_RUNNING, 1))
		if len(o.acks) > 4000 {
			for len(o.acks) > 0 {
				<-o.acks
			}
		}
	}
	o.Latest()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		o.HandleEvent(ctx, update(fmt.Sprintf("quobyte.data.c.%d", i%40000), fmt.Sprintf("agent-%d", i%10000), mesos.TASK_RUNNING, float64(2+i)))
		<-o.acks
		if i%1000 == 0 {
			o.Latest()
		}
	}
}

// BenchmarkLatest_Build40kTasks is the cost of one snapshot build of a
// 10,000-agent, 40,000-task state after one status update (the build
// applies what changed to the last snapshot). The update itself is
// folded outside the measured time.
func BenchmarkLatest_Build40kTasks(b *testing.B) {
	o := New(Config{Caller: &callRecorder{}})
	ctx := context.Background()
	for i := 0; i < 40000; i++ {
		o.HandleEvent(ctx, update(fmt.Sprintf("quobyte.data.c.%d", i), fmt.Sprintf("agent-%d", i%10000), mesos.TASK_RUNNING, 1))
		for len(o.acks) > 0 {
			<-o.acks
		}
	}
	gen := o.Latest().Generation
	b.ReportAllocs()
	b.ResetTimer()
	stop := benchcpu.Start(b)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		state := mesos.TASK_STARTING // a change every time: the build is not skipped
		if i/40000%2 == 1 {
			state = mesos.TASK_RUNNING
		}
		o.HandleEvent(ctx, update(fmt.Sprintf("quobyte.data.c.%d", i%40000), fmt.Sprintf("agent-%d", i%10000), state, float64(2+i)))
		<-o.acks
		b.StartTimer()
		if s := o.Latest(); len(s.Tasks) != 40000 || s.Generation != gen+uint64(i)+1 {
			b.Fatalf("%d tasks", len(s.Tasks))
		}
	}
	stop()
}
