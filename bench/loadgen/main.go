// Command loadgen drives a NATS server with the official Go client (nats.go) and prints one JSON
// line with the measured rate. bench/bench_stub_go.py builds it in GOPATH mode and runs it
// against server_stub and nats-server alternately; a compiled client keeps the measuring side
// from being the bottleneck (its CPU use is reported beside the server's).
//
// Every mode is bounded by a message count and a deadline, and exits non-zero past the deadline.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

type result struct {
	Mode    string  `json:"mode"`
	Count   int     `json:"count"`
	Seconds float64 `json:"seconds"`
	Rate    float64 `json:"rate"`
}

var (
	url      = flag.String("url", "nats://127.0.0.1:4222", "server URL")
	creds    = flag.String("creds", "", "user creds file")
	mode     = flag.String("mode", "pubsub", "pubsub|pub|fanout|queue|reqrep|connect|jssync|jsasync|idle")
	count    = flag.Int("n", 100000, "messages (or requests, connects)")
	size     = flag.Int("size", 128, "payload bytes")
	clients  = flag.Int("clients", 4, "subscribers (fanout, queue) or requesters (reqrep)")
	deadline = flag.Duration("deadline", 120*time.Second, "give up after this long")
	hold     = flag.Duration("hold", 3*time.Second, "idle: how long to hold the connections")
)

func connect(name string) *nats.Conn {
	opts := []nats.Option{nats.Name(name), nats.ReconnectWait(time.Second), nats.MaxReconnects(0)}
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		fail("connect: %v", err)
	}
	return nc
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "loadgen: "+format+"\n", args...)
	os.Exit(1)
}

func waitFor(done <-chan struct{}, what string) {
	select {
	case <-done:
	case <-time.After(*deadline):
		fail("%s: not done after %v", what, *deadline)
	}
}

// subscribers delivers n messages to k subscriptions (queue group when queue != "") and
// returns the rate of deliveries.
func subscribers(k int, queue string, expected int) float64 {
	payload := make([]byte, *size)
	var got int64
	done := make(chan struct{})
	var once sync.Once
	var subs []*nats.Conn
	for i := 0; i < k; i++ {
		nc := connect(fmt.Sprintf("sub-%d", i))
		defer nc.Close()
		handler := func(*nats.Msg) {
			if atomic.AddInt64(&got, 1) == int64(expected) {
				once.Do(func() { close(done) })
			}
		}
		var sub *nats.Subscription
		var err error
		if queue != "" {
			sub, err = nc.QueueSubscribe("bench.sub", queue, handler)
		} else {
			sub, err = nc.Subscribe("bench.sub", handler)
		}
		if err != nil {
			fail("subscribe: %v", err)
		}
		_ = sub.SetPendingLimits(-1, -1)
		if err := nc.Flush(); err != nil {
			fail("flush: %v", err)
		}
		subs = append(subs, nc)
	}
	pub := connect("pub")
	defer pub.Close()
	start := time.Now()
	for i := 0; i < *count; i++ {
		if err := pub.Publish("bench.sub", payload); err != nil {
			fail("publish: %v", err)
		}
	}
	if err := pub.Flush(); err != nil {
		fail("flush: %v", err)
	}
	waitFor(done, "delivery")
	return float64(expected) / time.Since(start).Seconds()
}

func publishOnly() float64 {
	payload := make([]byte, *size)
	nc := connect("pub")
	defer nc.Close()
	start := time.Now()
	for i := 0; i < *count; i++ {
		if err := nc.Publish("bench.nobody", payload); err != nil {
			fail("publish: %v", err)
		}
	}
	if err := nc.FlushTimeout(*deadline); err != nil {
		fail("flush: %v", err)
	}
	return float64(*count) / time.Since(start).Seconds()
}

func requestReply() float64 {
	replier := connect("replier")
	defer replier.Close()
	if _, err := replier.Subscribe("bench.req", func(m *nats.Msg) { _ = m.Respond(m.Data) }); err != nil {
		fail("subscribe: %v", err)
	}
	_ = replier.Flush()
	per := *count / *clients
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *clients; i++ {
		nc := connect(fmt.Sprintf("req-%d", i))
		defer nc.Close()
		wg.Add(1)
		go func() {
			defer wg.Done()
			payload := make([]byte, *size)
			for j := 0; j < per; j++ {
				if _, err := nc.Request("bench.req", payload, 5*time.Second); err != nil {
					fail("request: %v", err)
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	waitFor(done, "requests")
	return float64(per**clients) / time.Since(start).Seconds()
}

func connects() float64 {
	start := time.Now()
	for i := 0; i < *count; i++ {
		nc := connect("connect")
		nc.Close()
		if time.Since(start) > *deadline {
			fail("connects: not done after %v", *deadline)
		}
	}
	return float64(*count) / time.Since(start).Seconds()
}

func jetStream(async bool) float64 {
	nc := connect("js")
	defer nc.Close()
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(4000))
	if err != nil {
		fail("jetstream: %v", err)
	}
	_ = js.DeleteStream("BENCH")
	if _, err := js.AddStream(&nats.StreamConfig{
		Name: "BENCH", Subjects: []string{"bench.js"}, Storage: nats.FileStorage,
	}); err != nil {
		fail("add stream: %v", err)
	}
	payload := make([]byte, *size)
	start := time.Now()
	for i := 0; i < *count; i++ {
		if async {
			// a loaded machine can hold a server back past the default 200 ms stall: wait
			if _, err := js.PublishAsync("bench.js", payload, nats.StallWait(10*time.Second)); err != nil {
				fail("publish: %v", err)
			}
		} else if _, err := js.Publish("bench.js", payload); err != nil {
			fail("publish: %v", err)
		}
	}
	if async {
		waitFor(jsComplete(js), "acks")
	}
	rate := float64(*count) / time.Since(start).Seconds()
	info, err := js.StreamInfo("BENCH")
	if err != nil || info.State.Msgs != uint64(*count) {
		fail("stream holds %v messages, want %d (%v)", info, *count, err)
	}
	_ = js.DeleteStream("BENCH")
	return rate
}

func jsComplete(js nats.JetStreamContext) <-chan struct{} {
	done := make(chan struct{})
	go func() { <-js.PublishAsyncComplete(); close(done) }()
	return done
}

// idle opens `clients` connections, says "connected" and holds them for -hold (server RSS).
func idle() {
	conns := make([]*nats.Conn, 0, *clients)
	for i := 0; i < *clients; i++ {
		conns = append(conns, connect(fmt.Sprintf("idle-%d", i)))
	}
	fmt.Println("connected")
	time.Sleep(*hold)
	for _, nc := range conns {
		nc.Close()
	}
}

func main() {
	flag.Parse()
	var rate float64
	n := *count
	events := n // what the rate counts: deliveries for fanout, messages otherwise
	switch strings.ToLower(*mode) {
	case "pubsub":
		rate = subscribers(1, "", n)
	case "pub":
		rate = publishOnly()
	case "fanout":
		events = n * *clients
		rate = subscribers(*clients, "", events)
	case "queue":
		rate = subscribers(*clients, "q", n)
	case "reqrep":
		rate = requestReply()
	case "connect":
		rate = connects()
	case "jssync":
		rate = jetStream(false)
	case "jsasync":
		rate = jetStream(true)
	case "idle":
		idle()
		return
	default:
		fail("unknown mode %q", *mode)
	}
	out, _ := json.Marshal(result{Mode: *mode, Count: events, Seconds: float64(events) / rate, Rate: rate})
	fmt.Println(string(out))
}
