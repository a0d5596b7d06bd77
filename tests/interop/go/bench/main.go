// Command bench measures the official Go nats-io/jwt v2 + nkeys libraries on the two operations
// bench/bench_jwt.py times: user create+sign (fresh user key each time) and decode+verify of the
// user JWT read on stdin. It prints {"create_sign": ops/s, "decode_verify": ops/s} as JSON.
//
// Rates are per second of CPU time (getrusage user+sys), best of -rounds, unless -wall is set:
// on a shared machine, wall-clock rates mostly measure the neighbours.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

func wallSeconds() float64 {
	return float64(time.Now().UnixNano()) / 1e9
}

// bestRate runs op in calibrated batches for rounds rounds of about seconds each.
func bestRate(op func(), rounds int, seconds float64, clock func() float64) float64 {
	batch := 1
	for {
		start := clock()
		for i := 0; i < batch; i++ {
			op()
		}
		if clock()-start >= 0.02 {
			break
		}
		batch *= 2
	}
	best := 0.0
	for r := 0; r < rounds; r++ {
		done, start := 0, clock()
		for {
			for i := 0; i < batch; i++ {
				op()
			}
			done += batch
			if elapsed := clock() - start; elapsed >= seconds {
				if rate := float64(done) / elapsed; rate > best {
					best = rate
				}
				break
			}
		}
	}
	return best
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	seconds := flag.Float64("seconds", 0.5, "length of one round")
	rounds := flag.Int("rounds", 5, "rounds per figure (best is kept)")
	wall := flag.Bool("wall", false, "wall-clock time instead of CPU time")
	seed := flag.String("seed", "", "account seed that signs the user JWTs")
	flag.Parse()

	account, err := nkeys.FromSeed([]byte(*seed))
	must(err)
	input, err := io.ReadAll(os.Stdin)
	must(err)
	token := strings.TrimSpace(string(input))
	if _, err := jwt.DecodeUserClaims(token); err != nil {
		must(fmt.Errorf("the token on stdin does not decode: %w", err))
	}
	clock := cpuSeconds
	if *wall {
		clock = wallSeconds
	}

	createSign := func() {
		user, err := nkeys.CreateUser()
		must(err)
		pub, err := user.PublicKey()
		must(err)
		claims := jwt.NewUserClaims(pub)
		claims.Name = "bench"
		_, err = claims.Encode(account)
		must(err)
	}
	decodeVerify := func() {
		_, err := jwt.DecodeUserClaims(token)
		must(err)
	}
	out := map[string]float64{
		"create_sign":   bestRate(createSign, *rounds, *seconds, clock),
		"decode_verify": bestRate(decodeVerify, *rounds, *seconds, clock),
	}
	must(json.NewEncoder(os.Stdout).Encode(out))
}
