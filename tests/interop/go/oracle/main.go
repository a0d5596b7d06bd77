// Command oracle answers questions about NATS JWTs with the official Go nats-io/jwt v2 library,
// so nscpy's tests can compare their answers with Go's. It reads one request per line on stdin
// and writes one JSON object per line on stdout, in order.
//
//	oracle check   each line is a JWT; answers
//	               {"ok", "error", "kind", "subject", "issuer", "issues", "payload"}
//	               where issues are Go's Validate() results and payload is json.Marshal of the
//	               decoded claims (what Go would write for the fields it knows)
//	oracle mint    each line is {"seed": "S...", "claims": {...}}; the claims JSON is
//	               unmarshalled into Go's struct for its nats.type (operator, account, user,
//	               activation) and encoded with the seed's key; answers {"token"} or {"error"}
//
// Built in GOPATH mode against Debian's golang-github-nats-io-jwt-dev (v2.3.0).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nkeys"
)

type issue struct {
	Description string `json:"description"`
	Blocking    bool   `json:"blocking"`
	TimeCheck   bool   `json:"time_check"`
}

type checked struct {
	OK      bool    `json:"ok"`
	Error   string  `json:"error,omitempty"`
	Kind    string  `json:"kind,omitempty"`
	Subject string  `json:"subject,omitempty"`
	Issuer  string  `json:"issuer,omitempty"`
	Issues  []issue `json:"issues"`
	Payload string  `json:"payload,omitempty"`
}

type minted struct {
	Token string `json:"token,omitempty"`
	Error string `json:"error,omitempty"`
}

type mintRequest struct {
	Seed   string          `json:"seed"`
	Claims json.RawMessage `json:"claims"`
}

func check(token string) checked {
	out := checked{Issues: []issue{}}
	claims, err := jwt.Decode(token)
	if err != nil {
		out.Error = err.Error()
		return out
	}
	data := claims.Claims()
	out.OK = true
	out.Kind = string(claims.ClaimType())
	out.Subject = data.Subject
	out.Issuer = data.Issuer
	vr := jwt.CreateValidationResults()
	claims.Validate(vr)
	for _, i := range vr.Issues {
		out.Issues = append(out.Issues, issue{i.Description, i.Blocking, i.TimeCheck})
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		out.Error = "marshal: " + err.Error()
		return out
	}
	out.Payload = string(payload)
	return out
}

// encoder is what every claims type Go can sign offers.
type encoder interface {
	Encode(nkeys.KeyPair) (string, error)
}

func mint(line string) minted {
	var req mintRequest
	if err := json.Unmarshal([]byte(line), &req); err != nil {
		return minted{Error: "request: " + err.Error()}
	}
	var kind struct {
		Nats struct {
			Type string `json:"type"`
		} `json:"nats"`
	}
	if err := json.Unmarshal(req.Claims, &kind); err != nil {
		return minted{Error: "claims: " + err.Error()}
	}
	var claims encoder
	switch jwt.ClaimType(kind.Nats.Type) {
	case jwt.OperatorClaim:
		claims = &jwt.OperatorClaims{}
	case jwt.AccountClaim:
		claims = &jwt.AccountClaims{}
	case jwt.UserClaim:
		claims = &jwt.UserClaims{}
	case jwt.ActivationClaim:
		claims = &jwt.ActivationClaims{}
	default:
		return minted{Error: fmt.Sprintf("cannot mint nats.type %q", kind.Nats.Type)}
	}
	if err := json.Unmarshal(req.Claims, claims); err != nil {
		return minted{Error: "claims: " + err.Error()}
	}
	kp, err := nkeys.FromSeed([]byte(req.Seed))
	if err != nil {
		return minted{Error: "seed: " + err.Error()}
	}
	token, err := claims.Encode(kp)
	if err != nil {
		return minted{Error: "encode: " + err.Error()}
	}
	return minted{Token: token}
}

// marshalled is Go's json.Marshal of one JSON value read back (escaping oracle for nscpy.gojson).
type marshalled struct {
	JSON  string `json:"json,omitempty"`
	Error string `json:"error,omitempty"`
}

func marshal(line string) marshalled {
	var value interface{}
	if err := json.Unmarshal([]byte(line), &value); err != nil {
		return marshalled{Error: err.Error()}
	}
	out, err := json.Marshal(value)
	if err != nil {
		return marshalled{Error: err.Error()}
	}
	return marshalled{JSON: string(out)}
}

func run(mode string) error {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<16), 4<<20)
	out := json.NewEncoder(os.Stdout)
	out.SetEscapeHTML(false)
	for in.Scan() {
		line := strings.TrimSpace(in.Text())
		if line == "" {
			continue
		}
		var answer interface{}
		switch mode {
		case "check":
			answer = check(line)
		case "mint":
			answer = mint(line)
		case "marshal":
			answer = marshal(line)
		}
		if err := out.Encode(answer); err != nil {
			return err
		}
	}
	return in.Err()
}

func main() {
	if len(os.Args) != 2 || (os.Args[1] != "check" && os.Args[1] != "mint" && os.Args[1] != "marshal") {
		fmt.Fprintln(os.Stderr, "usage: oracle check|mint|marshal  (requests on stdin, one per line)")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "oracle:", err)
		os.Exit(1)
	}
}
