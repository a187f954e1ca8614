#!/usr/bin/python3
"""A real HTTP server on 127.0.0.1 that receives Patron's webhooks.

Writes one JSON line per request to --out: the path, the Idempotency-Key,
whether X-Patron-Signature ("t=TIME,v1=HEX") is the HMAC-SHA256 of TIME, a
dot and the body under --secret, whether TIME is within five minutes of now,
and the body. Answers --status (200), the first --fail-first requests with
503, and sleeps --delay seconds before answering. HTTP/1.1 keep-alive, so a
client can reuse its connection. Writes --ready once listening.
"""
import argparse
import hashlib
import hmac
import json
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--secret", default="")
    ap.add_argument("--status", type=int, default=200)
    ap.add_argument("--fail-first", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    out = open(args.out, "a", buffering=1)
    lock = threading.Lock()
    seen = [0]

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            sig = self.headers.get("X-Patron-Signature", "")
            parts = dict(p.split("=", 1) for p in sig.split(",") if "=" in p)
            stamp = parts.get("t", "")
            good = hmac.new(args.secret.encode(), stamp.encode() + b"." + body,
                            hashlib.sha256).hexdigest()
            fresh = stamp.isdigit() and abs(time.time() - int(stamp)) <= 300
            with lock:
                seen[0] += 1
                n = seen[0]
            if args.delay:
                time.sleep(args.delay)
            status = 503 if n <= args.fail_first else args.status
            line = {"path": self.path, "key": self.headers.get("Idempotency-Key"),
                    "signed": bool(sig),
                    "signature_ok": hmac.compare_digest(parts.get("v1", ""), good),
                    "fresh": fresh,
                    "status": status, "body": json.loads(body)}
            with lock:
                out.write(json.dumps(line) + "\n")
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    with open(args.ready, "w") as f:
        f.write("ready\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    srv.shutdown()


if __name__ == "__main__":
    main()
