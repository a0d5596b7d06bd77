// calloutclient: the Go NATS client (nats.go) as a real client for the auth callout tests.
//
// nats-py sends user/password only when no JWT is configured, but an operator-mode callout
// client presents a sentinel JWT *and* the credentials the callout decides on; nats.go sends
// both. Flags: -url, -creds, -user, -pass, -token. It connects, subscribes to orders.>,
// publishes orders.new ("hi"), orders.secret and billing.x, subscribes to billing.>, and prints
// one line per event: "connected", "error: ...", "msg SUBJECT DATA", "async: ERROR".
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", "", "server URL")
	creds := flag.String("creds", "", "creds file (the sentinel)")
	user := flag.String("user", "", "user")
	pass := flag.String("pass", "", "password")
	token := flag.String("token", "", "token")
	flag.Parse()

	var mu sync.Mutex
	say := func(format string, args ...interface{}) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Printf(format+"\n", args...)
	}
	opts := []nats.Option{
		nats.NoReconnect(),
		nats.Timeout(5 * time.Second),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
			say("async: %s", strings.ToLower(err.Error()))
		}),
	}
	if *creds != "" {
		opts = append(opts, nats.UserCredentials(*creds))
	}
	if *user != "" {
		opts = append(opts, nats.UserInfo(*user, *pass))
	}
	if *token != "" {
		opts = append(opts, nats.Token(*token))
	}
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		say("error: %s", strings.ToLower(err.Error()))
		os.Exit(0)
	}
	defer nc.Close()
	say("connected")
	got := make(chan *nats.Msg, 10)
	if _, err := nc.ChanSubscribe("orders.>", got); err != nil {
		say("error: %s", err)
	}
	nc.Flush()
	nc.Publish("orders.new", []byte("hi"))
	nc.Publish("orders.secret", nil)
	nc.Publish("billing.x", nil)
	nc.Subscribe("billing.>", func(*nats.Msg) {})
	nc.Flush()
	deadline := time.After(500 * time.Millisecond)
	for {
		select {
		case m := <-got:
			say("msg %s %s", m.Subject, string(m.Data))
		case <-deadline:
			return
		}
	}
}
