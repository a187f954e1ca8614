# patron serve under load, sourced by scripts/bench.sh (which gives PATRON,
# WORK, MODE, RUNS, median, figure and free_port): wrk on 127.0.0.1 against
# a fresh store each run, (a) POST /v1/track, each 200 sent only once the
# event is committed (synchronous=FULL, group commit), (b) GET /t/c/TOKEN,
# each click recorded as an event and redirected. Requests/s and the p99
# latency, medians of RUNS runs; after each run the events in the store
# must be at least the requests wrk saw answered.
command -v wrk >/dev/null || { echo "bench: wrk is missing (Debian package wrk)" >&2; exit 1; }
SECONDS_EACH=10
[ "$MODE" = quick ] && SECONDS_EACH=4
S="$WORK/serve"
mkdir -p "$S"

# wrk's p99 ("99%  5.71ms") in milliseconds.
p99_ms() {
	awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
		print (u == "us" ? v / 1000 : u == "s" ? v * 1000 : v) }' "$1"
}

for what in track click; do
	: >"$WORK/rates"
	: >"$WORK/p99s"
	for i in $(seq "$RUNS"); do
		rm -f "$S"/patron.db*
		key=$("$PATRON" --db "$S/patron.db" keys add bench 2>/dev/null)
		sqlite3 "$S/patron.db" "INSERT INTO customers(id, created_at, updated_at) VALUES (1, 0, 0);
			INSERT INTO outbox(id, key, channel, customer_id, address, template, status, created_at)
			VALUES (1, 'bench|1', 'email', 1, 'a@example.com', 'offer', 'sent', 0)"
		"$PATRON" --db "$S/patron.db" serve --listen 127.0.0.1:0 --access-log "$S/access.log" \
			>"$S/out" 2>"$S/err" &
		pid=$!
		for _ in $(seq 100); do grep -q listening "$S/out" 2>/dev/null && break; sleep 0.1; done
		url=$(sed -n 's/.*listening on //p' "$S/out")
		[ -n "$url" ] || { echo "bench: patron serve did not start: $(cat "$S/err")" >&2; exit 1; }
		if [ "$what" = track ]; then
			cat >"$S/wrk.lua" <<-LUA
			wrk.method = "POST"
			wrk.body = '{"event": "Viewed Product", "userId": "u1", "properties": {"sku": "ETH-250"}}'
			wrk.headers["Content-Type"] = "application/json"
			wrk.headers["Authorization"] = "Bearer $key"
			LUA
			target="$url/v1/track"
		else
			# A click token as an email carries it (core/serve/tokens.h):
			# ID.BASE64URL(URL).MAC, under the store's tracking key.
			token=$(sqlite3 "$S/patron.db" "SELECT value FROM settings WHERE name = 'tracking_key'" |
				/usr/bin/python3 -c 'import base64, hashlib, hmac, sys
key = bytes.fromhex(sys.stdin.read().strip())
b64 = lambda b: base64.urlsafe_b64encode(b).decode().rstrip("=")
body = "1." + b64(b"https://shop.example/beans?utm=mail")
print(body + "." + b64(hmac.new(key, ("c." + body).encode(), hashlib.sha256).digest()[:16]))')
			echo 'wrk.method = "GET"' >"$S/wrk.lua"
			target="$url/t/c/$token"
			code=$(curl -s -o /dev/null -w '%{http_code}' "$target")
			[ "$code" = 302 ] || { echo "bench: the click token was refused ($code)" >&2; exit 1; }
		fi
		wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -s "$S/wrk.lua" "$target" >"$S/wrk.out" 2>&1
		kill -TERM "$pid"
		wait "$pid" 2>/dev/null || true
		if grep -q "Non-2xx" "$S/wrk.out" && [ "$what" = track ]; then
			echo "bench: some events were refused: $(grep Non-2xx "$S/wrk.out")" >&2
			exit 1
		fi
		done_n=$(awk '/requests in/ { print $1 }' "$S/wrk.out")
		topic=$([ "$what" = track ] && echo track.viewed_product || echo message.clicked)
		stored=$(sqlite3 "$S/patron.db" "SELECT count(*) FROM events WHERE topic = '$topic'")
		[ "$stored" -ge "$done_n" ] ||
			{ echo "bench: $done_n answered but $stored stored ($what)" >&2; exit 1; }
		awk '/Requests\/sec/ { print $2 }' "$S/wrk.out" >>"$WORK/rates"
		p99_ms "$S/wrk.out" >>"$WORK/p99s"
	done
	rate=$(median <"$WORK/rates" | awk '{ printf "%d", $1 }')
	p99=$(median <"$WORK/p99s")
	eval "serve_${what}_rate=$rate serve_${what}_p99=$p99"
done
rm -rf "$S"
ROWS=0
printf '%-44s %10s req/s  (p99 %s ms; 64 connections, committed before 200; target > 20000/s, p99 < 50 ms)\n' \
	"serve: POST /v1/track, durable" "$serve_track_rate" "$serve_track_p99"
printf '%-44s %10s req/s  (p99 %s ms; each click an event; target > 30000/s)\n' \
	"serve: GET /t/c/TOKEN, click redirects" "$serve_click_rate" "$serve_click_p99"
figure serve_track_per_s "$serve_track_rate" "req/s" null higher
figure serve_track_p99 "$serve_track_p99" "ms" null lower
figure serve_click_per_s "$serve_click_rate" "req/s" null higher
figure serve_click_p99 "$serve_click_p99" "ms" null lower
