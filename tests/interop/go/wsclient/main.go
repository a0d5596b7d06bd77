// wsclient: nats.go over WebSocket (ws:// URL) for the differential tests.
//
// Flags: -url. It connects, subscribes to ws.>, publishes a small message, one with headers
// and one of 200 KB (a 64-bit frame length), answers requests on svc, sends one, and prints one
// line per outcome: "connected", "msg SUBJECT SIZE HEADER", "reply DATA", "error: ...".
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", "", "server URL (ws://...)")
	flag.Parse()

	nc, err := nats.Connect(*url, nats.NoReconnect(), nats.Timeout(5*time.Second))
	if err != nil {
		fmt.Printf("error: %s\n", strings.ToLower(err.Error()))
		os.Exit(0)
	}
	defer nc.Close()
	fmt.Println("connected")
	sub, err := nc.SubscribeSync("ws.>")
	if err != nil {
		fmt.Printf("error: %s\n", err)
		return
	}
	nc.Subscribe("svc", func(m *nats.Msg) { m.Respond(append([]byte("re:"), m.Data...)) })
	nc.Flush()
	nc.Publish("ws.small", []byte("hi"))
	msg := nats.NewMsg("ws.headers")
	msg.Header.Set("X-Kind", "test")
	msg.Data = []byte("with headers")
	nc.PublishMsg(msg)
	nc.Publish("ws.big", bytes.Repeat([]byte("z"), 200*1024))
	for i := 0; i < 3; i++ {
		m, err := sub.NextMsg(5 * time.Second)
		if err != nil {
			fmt.Printf("error: %s\n", err)
			return
		}
		fmt.Printf("msg %s %d %q\n", m.Subject, len(m.Data), m.Header.Get("X-Kind"))
	}
	reply, err := nc.Request("svc", []byte("ping"), 5*time.Second)
	if err != nil {
		fmt.Printf("error: %s\n", err)
		return
	}
	fmt.Printf("reply %s\n", reply.Data)
	if _, err := nc.Request("nobody.home", nil, 2*time.Second); err != nil {
		fmt.Printf("error: %s\n", strings.ToLower(err.Error()))
	}
}
