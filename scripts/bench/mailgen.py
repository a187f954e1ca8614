"""Writes a Maildir of N customers' emails for the inbox benchmark, in the
shapes mail programs send: plain text, multipart/alternative in
quoted-printable, HTML-only Latin-1 in base64 with an attachment, and
replies quoting the message they answer (In-Reply-To, References).
Deterministic for a seed. Usage: mailgen.py DIR N [SEED]"""
import base64
import os
import quopri
import random
import sys

out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
os.makedirs(os.path.join(out, "new"), exist_ok=True)
os.makedirs(os.path.join(out, "cur"), exist_ok=True)
os.makedirs(os.path.join(out, "tmp"), exist_ok=True)
questions = [
    "Where is my order #{o}? It has not arrived yet.",
    "Can I return the mug I bought last week? It is too small.",
    "I was charged twice for order #{o}, please refund one.",
    "Do you ship to Canada, and how long does it take?",
    "The teapot arrived broken. This is really disappointing.",
    "Is the blue kettle back in stock soon?",
    "Please unsubscribe me from the newsletter.",
    "Thank you, the coffee is excellent!",
]
names = ["Ada", "Bob", "Chen", "Dee", "Élodie", "Farid", "Greta", "Hiro", "Ines", "Jon"]
start = 1767225600  # 2026-01-01
sent = []
for i in range(n):
    who = rng.randrange(max(1, n // 4))
    name = names[who % len(names)]
    addr = f"customer{who}@example.com"
    t = start + i * 60
    text = rng.choice(questions).format(o=1000 + rng.randrange(9000))
    mid = f"<m{i}.{who}@mail.example.com>"
    date = f"{t}"
    from email.utils import formatdate
    date = formatdate(t)
    head = f"From: {name} <{addr}>\r\nTo: help@shop.example\r\nDate: {date}\r\nMessage-ID: {mid}\r\n"
    shape = i % 4
    if shape == 3 and sent:
        prev_mid, prev_subject, prev_text = rng.choice(sent[-50:])
        head += f"Subject: Re: {prev_subject}\r\nIn-Reply-To: {prev_mid}\r\nReferences: {prev_mid}\r\n"
        quoted = "\r\n".join("> " + l for l in prev_text.split("\n"))
        body = f"{text}\r\n\r\nOn {date}, Shop <help@shop.example> wrote:\r\n{quoted}\r\n"
        msg = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body
    else:
        subject = text.split("?")[0][:40]
        head += f"Subject: {subject}\r\nMIME-Version: 1.0\r\n"
        if shape == 0:
            msg = head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + f"\r\n\r\n{name}\r\n"
        elif shape == 1:
            qp = quopri.encodestring((text + f"\n\n{name}\n").encode()).decode()
            msg = (head + 'Content-Type: multipart/alternative; boundary="b1"\r\n\r\n--b1\r\n'
                   "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
                   + qp + "\r\n--b1\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div>" + text
                   + "</div>\r\n--b1--\r\n")
        else:
            html = base64.encodebytes(f"<html><body><p>{text}</p><p>{name}</p></body></html>".encode("latin-1")).decode()
            msg = (head + 'Content-Type: multipart/mixed; boundary="m1"\r\n\r\n--m1\r\n'
                   "Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   + html + "--m1\r\nContent-Type: image/jpeg; name=photo.jpg\r\nContent-Disposition: attachment;"
                   " filename=photo.jpg\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                   + base64.encodebytes(bytes(rng.randrange(256) for _ in range(3000))).decode() + "--m1--\r\n")
        sent.append((mid, subject, text))
    sub = "new" if i % 3 else "cur"
    fname = f"{t}.M{i}P1.bench" + (":2,S" if sub == "cur" else "")
    with open(os.path.join(out, sub, fname), "w", encoding="utf-8") as f:
        f.write(msg)
