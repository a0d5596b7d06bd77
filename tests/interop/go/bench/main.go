// Command bench measures the official Go nats-io/jwt v2 + nkeys libraries on the two operations
// bench/bench_jwt.py times: user create+sign (fresh user key each time) and decode+verify of the
// user JWT read on stdin. It prints {"create_sign": ops/s, "decode_verify": ops/s} as JSON.
// With -signing-seed it also times what bench/bench_issue.py calls issuance ("issue"): a fresh
// user key, claims with permissions, expiry and issuer_account, signed by that account signing
// key, and the creds text (FormatUserConfig; "issue_no_decode" builds the same text by hand,
// skipping the decode+verify that FormatUserConfig does first).
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
	signingSeed := flag.String("signing-seed", "", "account signing key seed for the issue figure")
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
	if *signingSeed != "" {
		signer, err := nkeys.FromSeed([]byte(*signingSeed))
		must(err)
		accountKey, err := account.PublicKey()
		must(err)
		mint := func(format bool) {
			user, err := nkeys.CreateUser()
			must(err)
			pub, err := user.PublicKey()
			must(err)
			claims := jwt.NewUserClaims(pub)
			claims.Name = "svc"
			claims.IssuerAccount = accountKey
			claims.Pub.Allow.Add("orders.>")
			claims.Sub.Allow.Add("_INBOX.>")
			claims.IssuedAt = 1700000000
			claims.Expires = 1700003600
			token, err := claims.Encode(signer)
			must(err)
			userSeed, err := user.Seed()
			must(err)
			if format {
				// the library's way: FormatUserConfig decodes (and verifies) the token first
				_, err = jwt.FormatUserConfig(token, userSeed)
				must(err)
				return
			}
			decorated, err := jwt.DecorateSeed(userSeed)
			must(err)
			_ = "-----BEGIN NATS USER JWT-----\n" + token + "\n------END NATS USER JWT------\n\n" + string(decorated)
		}
		out["issue"] = bestRate(func() { mint(true) }, *rounds, *seconds, clock)
		out["issue_no_decode"] = bestRate(func() { mint(false) }, *rounds, *seconds, clock)
	}
	must(json.NewEncoder(os.Stdout).Encode(out))
}
