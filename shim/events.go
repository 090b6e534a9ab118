package shim

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	eventsapi "github.com/containerd/containerd/api/services/ttrpc/events/v1"
	"github.com/containerd/containerd/api/types"
	"github.com/containerd/ttrpc"
	"github.com/containerd/typeurl/v2"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// Event topics, as containerd names them.
const (
	topicCreate      = "/tasks/create"
	topicStart       = "/tasks/start"
	topicExit        = "/tasks/exit"
	topicDelete      = "/tasks/delete"
	topicExecAdded   = "/tasks/exec-added"
	topicExecStarted = "/tasks/exec-started"
	topicPaused      = "/tasks/paused"
	topicResumed     = "/tasks/resumed"
	topicOOM         = "/tasks/oom"
)

// marshalAny wraps a message the way containerd's typeurl expects: the
// type URL is the message's full name, without a host.
func marshalAny(m proto.Message) (*anypb.Any, error) { return typeurl.MarshalAnyToProto(m) }

type envelope struct {
	topic string
	event *anypb.Any
	at    time.Time
}

// publisher forwards events to containerd's ttrpc events service, in the
// order they happened, from one goroutine; a containerd that is away
// (restarting) gets them when it is back, within a bound.
type publisher struct {
	address, namespace string
	log                *slog.Logger
	queue              chan envelope
	done               chan struct{}
	// stop ends retries when the shim is going away.
	stop context.CancelFunc
	ctx  context.Context

	mu     sync.Mutex
	closed bool
}

// queueSize bounds the events waiting for containerd.
const queueSize = 1024

func newPublisher(address, namespace string, log *slog.Logger) *publisher {
	p := &publisher{address: strings.TrimPrefix(address, "unix://"), namespace: namespace, log: log,
		queue: make(chan envelope, queueSize), done: make(chan struct{})}
	p.ctx, p.stop = context.WithCancel(context.Background())
	go p.run()
	return p
}

func (p *publisher) publish(topic string, event proto.Message) {
	a, err := marshalAny(event)
	if err != nil {
		p.log.Error("marshal event", "topic", topic, "error", err)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return // the shim is going away: there is no one to tell
	}
	select {
	case p.queue <- envelope{topic, a, time.Now()}:
	default:
		p.log.Error("event queue full; event dropped", "topic", topic)
	}
}

func (p *publisher) run() {
	ctx := p.ctx
	defer close(p.done)
	var client *ttrpc.Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for {
		e, ok := <-p.queue
		if !ok {
			return
		}
		req := &eventsapi.ForwardRequest{Envelope: &types.Envelope{
			Timestamp: timestamppb.New(e.at), Namespace: p.namespace, Topic: e.topic, Event: e.event,
		}}
		for attempt := 0; ; attempt++ {
			if p.address == "" {
				break
			}
			if client == nil {
				conn, err := net.DialTimeout("unix", p.address, 5*time.Second)
				if err == nil {
					client = ttrpc.NewClient(conn)
				}
			}
			if client != nil {
				cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				_, err := eventsapi.NewEventsClient(client).Forward(cctx, req)
				cancel()
				if err == nil {
					break
				}
				p.log.Warn("forward event", "topic", e.topic, "error", err)
				client.Close()
				client = nil
			}
			if attempt >= 20 || ctx.Err() != nil {
				p.log.Error("event not delivered", "topic", e.topic)
				break
			}
			time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
		}
	}
}

// close sends what is queued (waiting a bounded time) and stops.
func (p *publisher) close() {
	p.mu.Lock()
	p.closed = true
	close(p.queue)
	p.mu.Unlock()
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	p.stop()
}
