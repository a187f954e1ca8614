#!/usr/bin/python3
"""A real SMTP server on 127.0.0.1 for Patron's tests and benchmark (aiosmtpd).

Writes one JSON line per accepted message to --out: the envelope, the
Message-ID, the connection it came on and the whole message. Can refuse
recipients (--bounce ADDR: 550, --tempfail ADDR: 451) and answer slowly
(--delay SECONDS before accepting each message). Writes --ready once
listening; stops on SIGTERM.
"""
import argparse
import asyncio
import json
import re
import signal
import threading

from aiosmtpd.controller import Controller


class Recorder:
    def __init__(self, args):
        self.args = args
        self.out = open(args.out, "a", buffering=1)
        self.lock = threading.Lock()
        self.sessions = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.args.bounce:
            return "550 5.1.1 no such mailbox"
        if address in self.args.tempfail:
            return "451 4.2.0 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.args.delay:
            await asyncio.sleep(self.args.delay)
        raw = envelope.original_content or envelope.content
        # the header only: a test parses the whole message itself when it must
        mid = re.search(rb"^Message-ID: *(.*?)\r?$", raw.split(b"\r\n\r\n", 1)[0],
                        re.M | re.I)
        conn = self.sessions.setdefault(id(session), len(self.sessions) + 1)
        line = {
            "connection": conn,
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "message_id": mid.group(1).decode() if mid else None,
            "data": raw.decode("utf-8", "replace"),
        }
        with self.lock:
            self.out.write(json.dumps(line) + "\n")
        return "250 Message accepted"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--ready", required=True)
    ap.add_argument("--bounce", action="append", default=[])
    ap.add_argument("--tempfail", action="append", default=[])
    ap.add_argument("--delay", type=float, default=0)
    args = ap.parse_args()
    ctl = Controller(Recorder(args), hostname="127.0.0.1", port=args.port,
                     decode_data=False, data_size_limit=10 * 1024 * 1024)
    ctl.start()
    with open(args.ready, "w") as f:
        f.write("ready\n")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    ctl.stop()


if __name__ == "__main__":
    main()
