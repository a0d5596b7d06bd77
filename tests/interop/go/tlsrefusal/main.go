// tlsrefusal: nats.go connecting over TLS N times with credentials the server refuses.
//
// Flags: -url, -ca, -user, -pass (or -creds), -n. Each attempt is a fresh connection (no reconnects);
// the program prints one line per distinct outcome, "COUNT ERROR", sorted by error text, so a
// test can require that every attempt read the server's -ERR rather than a dropped connection.
package main

import (
	"flag"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	url := flag.String("url", "", "server URL (tls://...)")
	ca := flag.String("ca", "", "CA file that signed the server certificate")
	user := flag.String("user", "", "user")
	pass := flag.String("pass", "", "password")
	creds := flag.String("creds", "", "creds file (operator mode)")
	n := flag.Int("n", 1, "connection attempts")
	flag.Parse()

	outcomes := map[string]int{}
	for i := 0; i < *n; i++ {
		opts := []nats.Option{nats.RootCAs(*ca), nats.NoReconnect(), nats.Timeout(5 * time.Second)}
		if *creds != "" {
			opts = append(opts, nats.UserCredentials(*creds))
		} else {
			opts = append(opts, nats.UserInfo(*user, *pass))
		}
		nc, err := nats.Connect(*url, opts...)
		if err != nil {
			outcomes[strings.ToLower(err.Error())]++
			continue
		}
		outcomes["connected"]++
		nc.Close()
	}
	lines := make([]string, 0, len(outcomes))
	for text, count := range outcomes {
		lines = append(lines, fmt.Sprintf("%d %s", count, text))
	}
	sort.Strings(lines)
	for _, line := range lines {
		fmt.Println(line)
	}
}
