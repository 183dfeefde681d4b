// Command testexecutor is a minimal custom executor for the agentrt tests,
// written against mesos-go's executor client the way a real executor is.
// It reports TASK_RUNNING with data on LAUNCH, echoes every MESSAGE back as
// the data of a TASK_RUNNING update (and as an executor MESSAGE), answers
// KILL with TASK_KILLED and exits when it has no tasks left or on SHUTDOWN.
// SIM_CODEC=json selects the JSON codec (default protobuf).
package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"

	mesos "github.com/mesos/mesos-go/api/v1/lib"
	"github.com/mesos/mesos-go/api/v1/lib/encoding/codecs"
	"github.com/mesos/mesos-go/api/v1/lib/executor"
	"github.com/mesos/mesos-go/api/v1/lib/executor/calls"
	"github.com/mesos/mesos-go/api/v1/lib/executor/config"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli"
	"github.com/mesos/mesos-go/api/v1/lib/httpcli/httpexec"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "testexecutor:", err)
		os.Exit(2)
	}
}

func run() error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	fmt.Printf("config: %+v\n", cfg)
	mt := codecs.MediaTypeProtobuf
	if os.Getenv("SIM_CODEC") == "json" {
		mt = codecs.MediaTypeJSON
	}
	u := url.URL{Scheme: "http", Host: cfg.AgentEndpoint, Path: "/api/v1/executor"}
	cli := httpcli.New(httpcli.Endpoint(u.String()), httpcli.Codec(codecs.ByMediaType[mt]))
	opts := executor.CallOptions{calls.Framework(cfg.FrameworkID), calls.Executor(cfg.ExecutorID)}
	sender := calls.SenderWith(httpexec.NewSender(cli.Send), opts...)
	ctx := context.Background()

	resp, err := sender.Send(ctx, calls.NonStreaming(calls.Subscribe(nil, nil)))
	if err != nil {
		return fmt.Errorf("subscribe: %w", err)
	}
	defer resp.Close()

	live := map[string]bool{}
	update := func(taskID string, state mesos.TaskState, data []byte) error {
		id := make([]byte, 16)
		_, _ = rand.Read(id)
		st := mesos.TaskStatus{
			TaskID: mesos.TaskID{Value: taskID}, State: state.Enum(),
			Source: mesos.SOURCE_EXECUTOR.Enum(), UUID: id, Data: data,
		}
		_, err := sender.Send(ctx, calls.NonStreaming(calls.Update(st)))
		return err
	}
	for {
		var e executor.Event
		if err := resp.Decode(&e); err != nil {
			return fmt.Errorf("decode event: %w", err)
		}
		fmt.Println("event:", e.Type)
		switch e.Type {
		case executor.Event_SUBSCRIBED:
			s := e.Subscribed
			fmt.Printf("subscribed: agent=%s container=%s\n", s.AgentInfo.GetID().GetValue(), s.ContainerID.GetValue())
			if _, err := sender.Send(ctx, calls.NonStreaming(calls.Message([]byte("hello from "+cfg.ExecutorID)))); err != nil {
				return fmt.Errorf("message: %w", err)
			}
		case executor.Event_LAUNCH:
			id := e.Launch.Task.TaskID.Value
			live[id] = true
			if err := update(id, mesos.TASK_RUNNING, []byte("running on "+os.Getenv("MESOS_SLAVE_ID"))); err != nil {
				return fmt.Errorf("update: %w", err)
			}
		case executor.Event_MESSAGE:
			for id := range live {
				if err := update(id, mesos.TASK_RUNNING, append([]byte("echo:"), e.Message.Data...)); err != nil {
					return fmt.Errorf("update: %w", err)
				}
			}
		case executor.Event_KILL:
			id := e.Kill.TaskID.Value
			delete(live, id)
			if err := update(id, mesos.TASK_KILLED, nil); err != nil {
				return fmt.Errorf("update: %w", err)
			}
			if len(live) == 0 {
				return nil
			}
		case executor.Event_SHUTDOWN:
			return nil
		}
	}
}
