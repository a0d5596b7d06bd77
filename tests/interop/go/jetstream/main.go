// Command jetstream runs one JetStream program with Debian's nats.go against the server at the
// URL given as its argument and prints what it saw as one JSON object. tests/e2e runs it
// against nats-server and against server_stub and compares the two outputs.
//
// It covers what needs more than request/reply: KV keys/history/watch/purge_deletes and TTL,
// Object Store put/get/list/watch/delete of a multi-chunk object (ordered consumers with flow
// control), ordered and flow-controlled push consumers, pull requests with heartbeats,
// queue-group push consumers, rollup, sealed streams, per-message TTL and consumer pause,
// and the rest of the JetStream API a program commonly touches (miscStory).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

type results map[string]interface{}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "jetstream:", err)
		os.Exit(1)
	}
}

// outcome is an error's text (APIError text or the sentinel's), or "ok".
func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	var apiErr *nats.APIError
	if errors.As(err, &apiErr) {
		return fmt.Sprintf("%d/%d %s", apiErr.Code, apiErr.ErrorCode, apiErr.Description)
	}
	return err.Error()
}

func entry(e nats.KeyValueEntry) []interface{} {
	return []interface{}{e.Key(), string(e.Value()), e.Revision(), e.Operation().String(), e.Delta()}
}

func kvStory(js nats.JetStreamContext, out results) {
	kv, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "cfg", History: 5})
	check(err)
	var revs []uint64
	for _, kvp := range [][2]string{{"a", "1"}, {"b", "2"}, {"a", "3"}} {
		rev, err := kv.Put(kvp[0], []byte(kvp[1]))
		check(err)
		revs = append(revs, rev)
	}
	out["kv_put"] = revs
	got, err := kv.Get("a")
	check(err)
	out["kv_get"] = entry(got)
	rev, err := kv.Update("a", []byte("4"), 3)
	out["kv_update"] = []interface{}{rev, outcome(err)}
	_, err = kv.Update("a", []byte("5"), 1)
	out["kv_update_wrong"] = outcome(err)
	_, err = kv.Create("a", []byte("x"))
	out["kv_create_again"] = outcome(err)
	check(kv.Delete("b"))
	_, err = kv.Get("b")
	out["kv_get_deleted"] = outcome(err)
	keys, err := kv.Keys()
	check(err)
	sort.Strings(keys)
	out["kv_keys"] = keys
	history, err := kv.History("a")
	check(err)
	var hist [][]interface{}
	for _, e := range history {
		hist = append(hist, entry(e))
	}
	out["kv_history"] = hist
	watcher, err := kv.WatchAll()
	check(err)
	var seen [][]interface{}
	for e := range watcher.Updates() {
		if e == nil {
			break
		}
		seen = append(seen, entry(e))
	}
	_, err = kv.Put("c", []byte("live"))
	check(err)
	select {
	case e := <-watcher.Updates():
		seen = append(seen, entry(e))
	case <-time.After(10 * time.Second):
		seen = append(seen, []interface{}{"timeout"})
	}
	check(watcher.Stop())
	out["kv_watch"] = seen
	check(kv.Purge("a"))
	history, err = kv.History("a")
	check(err)
	out["kv_after_purge"] = len(history)
	check(kv.PurgeDeletes(nats.DeleteMarkersOlderThan(-1)))
	info, err := js.StreamInfo("KV_cfg")
	check(err)
	out["kv_after_purge_deletes"] = []uint64{info.State.Msgs, info.State.FirstSeq, info.State.LastSeq}
	keys, err = kv.Keys()
	sort.Strings(keys)
	out["kv_keys_after"] = []interface{}{keys, outcome(err)}
	short, err := js.CreateKeyValue(&nats.KeyValueConfig{Bucket: "short", TTL: time.Second})
	check(err)
	_, err = short.Put("k", []byte("v"))
	check(err)
	_, err = short.Get("k")
	before := outcome(err)
	time.Sleep(1600 * time.Millisecond)
	_, err = short.Get("k")
	out["kv_ttl"] = []string{before, outcome(err)}
}

func objectStory(js nats.JetStreamContext, out results) {
	store, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: "files"})
	check(err)
	watcher, err := store.Watch()
	check(err)
	seed := sha256.Sum256([]byte("seed"))
	blob := bytes.Repeat(seed[:], 3*1024*1024/32+123) // ~3 MB: 25 chunks
	info, err := store.PutBytes("big.bin", blob)
	check(err)
	out["os_put"] = []interface{}{info.Name, info.Size, info.Chunks, info.Digest}
	_, err = store.PutString("small.txt", "hello")
	check(err)
	data, err := store.GetBytes("big.bin")
	check(err)
	sum := sha256.Sum256(data)
	out["os_get"] = []interface{}{len(data), hex.EncodeToString(sum[:])}
	list, err := store.List()
	check(err)
	var names []string
	for _, o := range list {
		names = append(names, fmt.Sprintf("%s:%d", o.Name, o.Size))
	}
	sort.Strings(names)
	out["os_list"] = names
	var updates []string // the empty bucket's "caught up" nil, then the two puts
	for objects := 0; objects < 2; {
		select {
		case o := <-watcher.Updates():
			if o == nil {
				updates = append(updates, "nil")
			} else {
				objects++
				updates = append(updates, fmt.Sprintf("%s:%d", o.Name, o.Size))
			}
		case <-time.After(10 * time.Second):
			updates = append(updates, "timeout")
			objects = 2
		}
	}
	check(watcher.Stop())
	out["os_watch"] = updates
	check(store.Delete("small.txt"))
	_, err = store.GetBytes("small.txt")
	out["os_get_deleted"] = outcome(err)
	check(store.Seal())
	status, err := store.Status()
	check(err)
	out["os_sealed"] = status.Sealed()
	_, err = store.PutString("late.txt", "no")
	out["os_put_sealed"] = outcome(err)
}

func deliveryStory(nc *nats.Conn, js nats.JetStreamContext, out results) {
	_, err := js.AddStream(&nats.StreamConfig{Name: "EV", Subjects: []string{"ev.>"}})
	check(err)
	payload := bytes.Repeat([]byte("x"), 40000)
	for i := 0; i < 40; i++ {
		_, err := js.Publish(fmt.Sprintf("ev.%d", i%4), append(payload, byte('0'+i%10)))
		check(err)
	}
	ordered, err := js.SubscribeSync("ev.>", nats.OrderedConsumer())
	check(err)
	var seqs []uint64
	for i := 0; i < 40; i++ {
		msg, err := ordered.NextMsg(10 * time.Second)
		check(err)
		meta, err := msg.Metadata()
		check(err)
		seqs = append(seqs, meta.Sequence.Stream)
	}
	check(ordered.Unsubscribe())
	out["ordered"] = seqs
	fc, err := js.SubscribeSync("ev.>", nats.Durable("fc"), nats.EnableFlowControl(),
		nats.IdleHeartbeat(time.Second), nats.AckExplicit())
	check(err)
	seqs = nil
	for i := 0; i < 40; i++ {
		msg, err := fc.NextMsg(10 * time.Second)
		check(err)
		meta, err := msg.Metadata()
		check(err)
		seqs = append(seqs, meta.Sequence.Stream)
		check(msg.Ack())
	}
	check(fc.Unsubscribe())
	out["flow_control"] = seqs
	last, err := js.SubscribeSync("ev.*", nats.OrderedConsumer(), nats.DeliverLastPerSubject())
	check(err)
	var lasts []string
	for i := 0; i < 4; i++ {
		msg, err := last.NextMsg(10 * time.Second)
		check(err)
		meta, err := msg.Metadata()
		check(err)
		lasts = append(lasts, fmt.Sprintf("%s:%d", msg.Subject, meta.Sequence.Stream))
	}
	check(last.Unsubscribe())
	out["last_per_subject"] = lasts
	// a pull request with idle heartbeats (raw: nats.go 1.22 has no heartbeat option)
	pull, err := js.PullSubscribe("ev.9", "hb")
	check(err)
	inbox := nats.NewInbox()
	beats, err := nc.SubscribeSync(inbox)
	check(err)
	request := []byte(`{"batch":1,"expires":1000000000,"idle_heartbeat":200000000}`)
	check(nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.EV.hb", inbox, request))
	var statuses []string
	for {
		msg, err := beats.NextMsg(2 * time.Second)
		if err != nil {
			break
		}
		statuses = append(statuses, msg.Header.Get("Status")+" "+msg.Header.Get("Description"))
		if msg.Header.Get("Status") != "100" {
			break
		}
	}
	check(beats.Unsubscribe())
	if len(statuses) > 0 {
		out["pull_heartbeats"] = []interface{}{statuses[0], statuses[len(statuses)-1], len(statuses) >= 3}
	}
	// a pull request whose inbox is gone: a later message stays pending
	dead := nats.NewInbox()
	gone, err := nc.SubscribeSync(dead)
	check(err)
	check(nc.PublishRequest("$JS.API.CONSUMER.MSG.NEXT.EV.hb", dead, []byte(`{"batch":1,"expires":5000000000}`)))
	check(nc.Flush())
	check(gone.Unsubscribe())
	check(nc.Flush())
	_, err = js.Publish("ev.9", []byte("late"))
	check(err)
	time.Sleep(300 * time.Millisecond)
	ci, err := js.ConsumerInfo("EV", "hb")
	check(err)
	out["abandoned"] = []interface{}{ci.NumPending, ci.NumAckPending, ci.Delivered.Stream}
	msgs, err := pull.Fetch(1, nats.MaxWait(2*time.Second))
	check(err)
	meta, err := msgs[0].Metadata()
	check(err)
	out["late"] = []interface{}{string(msgs[0].Data), meta.NumDelivered}
}

func queueStory(js nats.JetStreamContext, out results) {
	_, err := js.AddStream(&nats.StreamConfig{Name: "WORK", Subjects: []string{"work.>"}})
	check(err)
	var mu sync.Mutex
	counts := map[int]int{}
	done := make(chan struct{})
	var subs []*nats.Subscription
	for i := 0; i < 3; i++ {
		member := i
		sub, err := js.QueueSubscribe("work.>", "workers", func(m *nats.Msg) {
			mu.Lock()
			counts[member]++
			total := counts[0] + counts[1] + counts[2]
			mu.Unlock()
			_ = m.Ack()
			if total == 300 {
				close(done)
			}
		}, nats.Durable("workers"), nats.ManualAck())
		check(err)
		subs = append(subs, sub)
	}
	for i := 0; i < 300; i++ {
		_, err := js.Publish(fmt.Sprintf("work.%d", i), []byte("job"))
		check(err)
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	for _, sub := range subs {
		check(sub.Unsubscribe())
	}
	mu.Lock()
	defer mu.Unlock()
	out["queue_counts"] = []int{counts[0], counts[1], counts[2]}
}

func settingsStory(nc *nats.Conn, js nats.JetStreamContext, out results) {
	_, err := js.AddStream(&nats.StreamConfig{Name: "RU", Subjects: []string{"ru.>"}, AllowRollup: true})
	check(err)
	for i := 0; i < 3; i++ {
		_, err = js.Publish("ru.a", []byte{byte('0' + i)})
		check(err)
		_, err = js.Publish("ru.b", []byte{byte('0' + i)})
		check(err)
	}
	roll := nats.NewMsg("ru.a")
	roll.Header.Set("Nats-Rollup", "sub")
	roll.Data = []byte("rolled")
	_, err = js.PublishMsg(roll)
	check(err)
	info, err := js.StreamInfo("RU")
	check(err)
	out["rollup"] = info.State.Msgs
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "RU", Subjects: []string{"ru.>"}, Sealed: true})
	out["seal"] = outcome(err)
	_, err = js.Publish("ru.a", []byte("x"))
	out["sealed_publish"] = outcome(err)
	out["sealed_purge"] = outcome(js.PurgeStream("RU"))
	out["sealed_delete"] = outcome(js.DeleteMsg("RU", 7))
	_, err = js.UpdateStream(&nats.StreamConfig{Name: "RU", Subjects: []string{"ru.>"}})
	out["unseal"] = outcome(err)
	// per-message TTL: the stream opts in through allow_msg_ttl (raw: nats.go 1.22 predates it)
	create := []byte(`{"name":"TT","subjects":["tt.>"],"allow_msg_ttl":true}`)
	reply, err := nc.Request("$JS.API.STREAM.CREATE.TT", create, 2*time.Second)
	check(err)
	var created map[string]interface{}
	check(json.Unmarshal(reply.Data, &created))
	out["ttl_stream_error"] = created["error"]
	for _, ttl := range []string{"1s", "1m", "never", "500ms"} {
		msg := nats.NewMsg("tt." + ttl)
		msg.Header.Set("Nats-TTL", ttl)
		_, err := js.PublishMsg(msg)
		out["ttl_publish_"+ttl] = outcome(err)
	}
	time.Sleep(1800 * time.Millisecond)
	info, err = js.StreamInfo("TT")
	check(err)
	out["ttl_after"] = info.State.Msgs
	// pause (raw: nats.go 1.22 predates it)
	_, err = js.AddStream(&nats.StreamConfig{Name: "PZ", Subjects: []string{"pz.>"}})
	check(err)
	_, err = js.Publish("pz.a", []byte("p"))
	check(err)
	pull, err := js.PullSubscribe("pz.>", "pz")
	check(err)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	reply, err = nc.Request("$JS.API.CONSUMER.PAUSE.PZ.pz", []byte(`{"pause_until":"`+until+`"}`), 2*time.Second)
	check(err)
	var paused map[string]interface{}
	check(json.Unmarshal(reply.Data, &paused))
	out["pause"] = []interface{}{paused["paused"], paused["pause_until"] == until}
	_, err = pull.Fetch(1, nats.MaxWait(500*time.Millisecond))
	out["paused_fetch"] = outcome(err)
	reply, err = nc.Request("$JS.API.CONSUMER.PAUSE.PZ.pz", []byte(`{}`), 2*time.Second)
	check(err)
	var resumed map[string]interface{}
	check(json.Unmarshal(reply.Data, &resumed))
	out["resume"] = resumed["paused"]
	msgs, err := pull.Fetch(1, nats.MaxWait(2*time.Second))
	if err == nil {
		out["after_resume"] = string(msgs[0].Data)
	} else {
		out["after_resume"] = outcome(err)
	}
}

// miscStory: the rest of nats.go's JetStream surface a program commonly touches.
func miscStory(js nats.JetStreamContext, out results) {
	_, err := js.AddStream(&nats.StreamConfig{Name: "MISC", Subjects: []string{"misc.>"}, AllowDirect: true})
	check(err)
	for i := 0; i < 5; i++ {
		_, err := js.PublishAsync(fmt.Sprintf("misc.%d", i%2), []byte{byte('a' + i)}, nats.MsgId(fmt.Sprintf("id-%d", i)))
		check(err)
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-time.After(10 * time.Second):
		out["misc_async"] = "timeout"
	}
	ack, err := js.Publish("misc.0", []byte("dup"), nats.MsgId("id-0"))
	check(err)
	out["misc_dup"] = []interface{}{ack.Sequence, ack.Duplicate}
	_, err = js.Publish("misc.0", []byte("x"), nats.ExpectLastSequence(99))
	out["misc_expect_seq"] = outcome(err)
	_, err = js.Publish("misc.0", []byte("x"), nats.ExpectStream("OTHER"))
	out["misc_expect_stream"] = outcome(err)
	name, err := js.StreamNameBySubject("misc.7")
	out["misc_by_subject"] = []string{name, outcome(err)}
	var names []string
	for n := range js.StreamNames() {
		names = append(names, n)
	}
	sort.Strings(names)
	out["misc_stream_names"] = names
	last, err := js.GetLastMsg("MISC", "misc.1")
	check(err)
	out["misc_last"] = []interface{}{last.Subject, last.Sequence, string(last.Data)}
	direct, err := js.GetLastMsg("MISC", "misc.0", nats.DirectGet())
	check(err)
	out["misc_direct_last"] = []interface{}{direct.Subject, direct.Sequence, string(direct.Data)}
	_, err = js.GetMsg("MISC", 99)
	out["misc_get_missing"] = outcome(err)
	out["misc_secure_delete"] = outcome(js.SecureDeleteMsg("MISC", 2))
	out["misc_delete_again"] = outcome(js.DeleteMsg("MISC", 2))
	var starts [][]uint64
	for _, opt := range []nats.SubOpt{nats.DeliverNew(), nats.StartSequence(3), nats.StartTime(time.Now().Add(-time.Hour)), nats.DeliverLast()} {
		sub, err := js.SubscribeSync("misc.>", opt, nats.AckNone())
		check(err)
		var seqs []uint64
		for {
			msg, err := sub.NextMsg(300 * time.Millisecond)
			if err != nil {
				break
			}
			meta, err := msg.Metadata()
			check(err)
			seqs = append(seqs, meta.Sequence.Stream)
		}
		check(sub.Unsubscribe())
		starts = append(starts, seqs)
	}
	out["misc_starts"] = starts
	ch := make(chan *nats.Msg, 16)
	csub, err := js.ChanSubscribe("misc.1", ch, nats.AckAll())
	check(err)
	var got []string
	for len(got) < 2 {
		select {
		case msg := <-ch:
			got = append(got, string(msg.Data))
			if len(got) == 2 {
				check(msg.AckSync())
			}
		case <-time.After(2 * time.Second):
			got = append(got, "timeout")
		}
	}
	ci, err := csub.ConsumerInfo()
	check(err)
	out["misc_chan"] = []interface{}{got, ci.NumAckPending, ci.AckFloor.Stream}
	check(csub.Unsubscribe())
	_, err = js.SubscribeSync("misc.>", nats.ReplayOriginal())
	out["misc_replay_original"] = outcome(err) != "ok"
	info, err := js.AccountInfo()
	check(err)
	out["misc_account"] = []interface{}{info.Streams, info.Limits.MaxStreams}
	store, err := js.CreateObjectStore(&nats.ObjectStoreConfig{Bucket: "links"})
	check(err)
	target, err := store.PutString("target.txt", "pointed at")
	check(err)
	link, err := store.AddLink("link.txt", target)
	out["misc_link"] = outcome(err)
	if err == nil {
		data, err := store.GetString("link.txt")
		out["misc_link_get"] = []string{link.Name, data, outcome(err)}
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: jetstream URL")
		os.Exit(2)
	}
	nc, err := nats.Connect(os.Args[1])
	check(err)
	defer nc.Close()
	js, err := nc.JetStream(nats.MaxWait(10 * time.Second))
	check(err)
	out := results{}
	kvStory(js, out)
	objectStory(js, out)
	deliveryStory(nc, js, out)
	queueStory(js, out)
	settingsStory(nc, js, out)
	miscStory(js, out)
	check(json.NewEncoder(os.Stdout).Encode(out))
}
