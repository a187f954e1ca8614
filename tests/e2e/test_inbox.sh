# The inbox end to end: customers' emails from a Maildir and an mbox become
# tickets once, threaded; the shop's answer goes out through the outbox as a
# reply the customer's mail program threads, and the customer's answer to it
# comes back into the same ticket; tickets are ranked by who matters; late
# tickets reach the rules; an erasure takes them.

NOW=2026-11-30T12:00:00

conf() {
	cat >"$T/patron.conf" <<-'CONF'
	inbox = { addresses = "help@shop.example, owner@gmail.example" }
	channels = { email = { from = "Shop Help <help@shop.example>" } }
	sla = { first_response = "24h" }
	CONF
}

# A Maildir as a mail server delivers it: a Gmail question (multipart,
# quoted-printable, an encoded name and subject), the owner's answer from
# their own mail program, the customer's reply to it quoting it (Latin-1),
# an out-of-office answer, and an HTML-only question in GB2312 with a PDF.
maildir() {
	local M=$T/Maildir
	mkdir -p "$M/new" "$M/cur" "$M/tmp"
	cat >"$M/cur/1795950000.M1P1.mx:2,S" <<-'MAIL'
	Return-Path: <ada@example.com>
	From: =?UTF-8?Q?Ad=C3=A1_Lovelace?= <Ada@Example.com>
	To: help@shop.example
	Subject: =?UTF-8?B?V2hlcmUgaXMgbXkgb3JkZXIg?= =?UTF-8?B?IzEwNDI/?=
	Date: Sat, 28 Nov 2026 11:00:00 +0100
	Message-ID: <CAF-ada-1@mail.gmail.com>
	MIME-Version: 1.0
	Content-Type: multipart/alternative; boundary="000000000000abc"

	--000000000000abc
	Content-Type: text/plain; charset="UTF-8"
	Content-Transfer-Encoding: quoted-printable

	Hello, my teapot has not arrived. This is terrible, I am =
	very disappointed!

	Ad=C3=A1

	--000000000000abc
	Content-Type: text/html; charset="UTF-8"

	<div dir="ltr">Hello, my teapot has not arrived.</div>
	--000000000000abc--
	MAIL
	cat >"$M/cur/1795960000.M2P2.mx:2,S" <<-'MAIL'
	From: Shop Owner <owner@gmail.example>
	To: ada@example.com
	Subject: Re: Where is my order #1042?
	Date: Sat, 28 Nov 2026 13:00:00 +0000
	Message-ID: <answer-1@gmail.example>
	In-Reply-To: <CAF-ada-1@mail.gmail.com>
	References: <CAF-ada-1@mail.gmail.com>

	It left our warehouse yesterday.
	MAIL
	cat >"$M/new/1795970000.M3P3.mx" <<-'MAIL'
	From: Ada Lovelace <ada@example.com>
	To: Shop Help <help@shop.example>
	Subject: Re: Where is my order #1042?
	Date: Sun, 29 Nov 2026 09:00:00 +0000
	Message-ID: <CAF-ada-2@mail.gmail.com>
	In-Reply-To: <answer-1@gmail.example>
	References: <CAF-ada-1@mail.gmail.com> <answer-1@gmail.example>
	Content-Type: text/plain; charset=iso-8859-1
	Content-Transfer-Encoding: quoted-printable

	It came, tr=E8s bien. Thank you!

	On Sat, Nov 28, 2026 at 1:00 PM Shop Owner <owner@gmail.example> wrote:
	> It left our warehouse yesterday.
	MAIL
	cat >"$M/new/1795975000.M4P4.mx" <<-'MAIL'
	From: Bob <bob@example.org>
	To: help@shop.example
	Subject: Automatic reply: your newsletter
	Auto-Submitted: auto-replied
	Date: Sun, 29 Nov 2026 10:00:00 +0000
	Message-ID: <ooo-1@example.org>

	I am away until Monday.
	MAIL
	local html
	html=$(printf '<html><body><p>\xc4\xe3\xba\xc3&amp;</p></body></html>' | base64 -w0)
	printf 'From: "Chen, Li" <li@example.cn>\nTo: help@shop.example\nSubject: =?GB2312?B?zsrM4g==?=\nDate: Sun, 29 Nov 2026 16:00 -0500\nMessage-ID: <li-1@example.cn>\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XYZ\n\n--XYZ\nContent-Type: text/html; charset=gb2312\nContent-Transfer-Encoding: base64\n\n%s\n--XYZ\nContent-Type: application/pdf; name="invoice.pdf"\nContent-Disposition: attachment; filename="invoice.pdf"\nContent-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--XYZ--\n' "$html" >"$M/new/1795980000.M5P5.mx"
}

t_a_maildir_becomes_tickets_once() {
	conf
	maildir
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/Maildir"
	expect_rc 0
	expect_in "$T/out" "$T/Maildir: 5 messages: 3 new from customers in 2 new tickets, 1 answers from the shop, 0 already in the store; 2 new customers"
	expect_in "$T/out" "1 automatic messages (bounces, out-of-office answers, mailing lists) left out"
	# Ada's three messages are one ticket: by References, the owner's
	# answer included, with the time of the first response.
	expect_eq "$(q "SELECT count(*) FROM tickets")" 2
	expect_eq "$(q "SELECT group_concat(direction || ':' || sender, ' ') FROM (SELECT * FROM ticket_messages WHERE ticket_id = 1 ORDER BY sent_at)")" \
		"in:ada@example.com out:owner@gmail.example in:ada@example.com"
	expect_eq "$(q "SELECT subject, status, opened_at, first_response_at FROM tickets WHERE id = 1")" \
		"Where is my order #1042?|open|1795860000|1795870800"
	# What each wrote, decoded, without what it quoted
	expect_eq "$(q "SELECT body FROM ticket_messages WHERE message_id = '<CAF-ada-2@mail.gmail.com>'")" \
		"It came, très bien. Thank you!"
	expect_eq "$(q "SELECT body || '|' || attachments FROM ticket_messages WHERE message_id = '<li-1@example.cn>'")" "你好&|1"
	expect_eq "$(q "SELECT first_name || ' ' || last_name FROM customers c JOIN identities i ON i.customer_id = c.id WHERE i.value = 'ada@example.com'")" "Adá Lovelace"
	expect_eq "$(q "SELECT first_name || ' ' || last_name FROM customers c JOIN identities i ON i.customer_id = c.id WHERE i.value = 'li@example.cn'")" "Li Chen"
	expect_eq "$(q "SELECT count(*) FROM ticket_messages WHERE sender = 'bob@example.org'")" 0
	# The rules hear of each customer message, with its text and sentiment
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'inquiry.received'")" 3
	expect_eq "$(q "SELECT json_extract(payload, '$.text') FROM events WHERE topic = 'inquiry.received' ORDER BY id LIMIT 1")" \
		"Hello, my teapot has not arrived. This is terrible, I am very disappointed!

Adá"
	expect_eq "$(q "SELECT json_extract(payload, '$.sentiment') < -0.5 FROM events WHERE topic = 'inquiry.received' ORDER BY id LIMIT 1")" 1
	# Again: nothing changes
	before=$(q "SELECT count(*) FROM events")
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/Maildir"
	expect_rc 0
	expect_in "$T/out" "0 new from customers in 0 new tickets, 0 answers from the shop, 4 already in the store; 0 new customers"
	expect_eq "$(q "SELECT count(*) FROM ticket_messages")" 4
	expect_eq "$(q "SELECT count(*) FROM events")" "$before"
	# the report counts them
	run "$PATRON" --db "$DB" --now $NOW report --out "$T/r.html"
	expect_in "$T/r.html" "<tr><td>questions that came in</td><td class=\"num\">2</td></tr>"
	expect_in "$T/r.html" "<tr><td>median time to the first answer</td><td class=\"num\">3.0 h</td></tr>"
	# --json says the same
	run "$PATRON" --db "$DB" --now $NOW --json import inbox "$T/Maildir"
	expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))[0]; print(d["messages"], d["already_stored"], d["automatic"])' "$T/out")" "5 4 1"
}

t_an_mbox_is_read_and_threads_by_subject() {
	conf
	cat >"$T/support.mbox" <<-'MBOX'
	From zoe@example.com Mon Nov 23 10:00:00 2026
	From: Zoe <zoe@example.com>
	Subject: Gift wrapping
	Date: Mon, 23 Nov 2026 10:00:00 +0000
	Message-ID: <z1@example.com>

	Do you wrap gifts?
	>From the shop's page I could not tell.

	From zoe@example.com Mon Nov 23 11:00:00 2026
	From: Zoe <zoe@example.com>
	Subject: RE: Gift wrapping
	Date: Mon, 23 Nov 2026 11:00:00 +0000
	Message-ID: <z2@example.com>

	Also, can you add a card?

	From zoe@example.com Tue Nov 24 09:00:00 2026
	From: Zoe <zoe@example.com>
	Subject: Returns
	Date: Tue, 24 Nov 2026 09:00:00 +0000
	Message-ID: <z3@example.com>

	How do I return a cup?
	MBOX
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/support.mbox"
	expect_rc 0
	expect_in "$T/out" "3 messages: 3 new from customers in 2 new tickets"
	expect_eq "$(q "SELECT group_concat(id || ':' || subject, ', ') FROM tickets")" "1:Gift wrapping, 2:Returns"
	expect_eq "$(q "SELECT count(*) FROM ticket_messages WHERE ticket_id = 1")" 2
	# mboxrd: the body's ">From" is the writer's "From"
	expect_eq "$(q "SELECT body FROM ticket_messages WHERE message_id = '<z1@example.com>'")" \
		"Do you wrap gifts?
From the shop's page I could not tell."
	# one message file, and a folder of them, read the same way
	mkdir "$T/files"
	printf 'From: max@example.com\nSubject: Hi\nMessage-ID: <m1@x>\n\nHello\n' >"$T/files/a.eml"
	printf 'From: max@example.com\nSubject: Hi again\nMessage-ID: <m2@x>\n\nHello?\n' >"$T/files/b.eml"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/files"
	expect_in "$T/out" "2 messages: 2 new from customers in 2 new tickets"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/files/a.eml"
	expect_in "$T/out" "1 messages: 0 new from customers in 0 new tickets, 0 answers from the shop, 1 already in the store"
}

t_the_answer_goes_out_threaded_and_the_reply_comes_back() {
	conf
	maildir
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/Maildir" >/dev/null
	# No marketing consent: an answer to a question goes out all the same.
	expect_eq "$(q "SELECT count(*) FROM consent")" 0
	run sh -c "printf 'Here is your tracking number: 1Z999.\n' | '$PATRON' --db '$DB' --now 2026-11-30T13:00:00 ticket 2 --reply - --send"
	expect_rc 0
	expect_in "$T/out" "ticket 2: answer queued as message #1 on email"
	expect_in "$T/out" "deliver: 1 sent"
	eml=$(ls "$T"/outbox/*.eml)
	expect_in "$eml" "To: li@example.cn"
	expect_in "$eml" "Subject: =?UTF-8?B?"
	expect_in "$eml" "In-Reply-To: <li-1@example.cn>"
	expect_in "$eml" "References: <li-1@example.cn>"
	expect_in "$eml" "Here is your tracking number: 1Z999."
	grep -qi "unsubscribe" "$eml" && fail "an answer carries an unsubscribe footer"
	mid=$(sed -n 's/^Message-ID: //p' "$eml" | tr -d '\r')
	expect_eq "$(q "SELECT status || '|' || first_response_at FROM tickets WHERE id = 2")" "waiting|1796043600"
	expect_eq "$(q "SELECT message_id FROM ticket_messages WHERE direction = 'out' AND ticket_id = 2")" "$mid"
	# The customer answers from their mail program: back into ticket 2, open again
	printf 'From: li@example.cn\nSubject: Re: question\nMessage-ID: <li-2@example.cn>\nIn-Reply-To: %s\nReferences: <li-1@example.cn> %s\nDate: Mon, 30 Nov 2026 15:00:00 +0000\n\nThanks, it is here.\n\n> Here is your tracking number\n' "$mid" "$mid" >"$T/li-2.eml"
	run "$PATRON" --db "$DB" --now 2026-11-30T16:00:00 import inbox "$T/li-2.eml"
	expect_in "$T/out" "1 new from customers in 0 new tickets"
	run "$PATRON" --db "$DB" --json ticket 2
	expect_rc 0
	expect_eq "$(/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["status"], [(m["direction"], m["text"]) for m in d["thread"]])' "$T/out")" \
		"open [('in', '你好&'), ('out', 'Here is your tracking number: 1Z999.'), ('in', 'Thanks, it is here.')]"
	run "$PATRON" --db "$DB" --now 2026-11-30T17:00:00 ticket 2 --solve
	expect_rc 0
	expect_in "$T/out" "ticket 2: solved"
	expect_eq "$(q "SELECT status, solved_at FROM tickets WHERE id = 2")" "solved|1796058000"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'ticket.solved' AND json_extract(payload, '$.ticket') = 2")" 1
	# What is not there is said
	run "$PATRON" --db "$DB" ticket 99
	expect_rc 1
	expect_in "$T/err" "there is no ticket 99 (patron inbox lists them)"
	run "$PATRON" --db "$DB" ticket 1 --reply "$T/nothing.txt"
	expect_rc 1
	expect_in "$T/err" "nothing.txt: cannot read it"
	run "$PATRON" --db "$DB" ticket
	expect_rc 2
}

t_the_inbox_puts_the_customers_who_matter_first() {
	conf
	# Ada is the shop's best customer; Max has never bought.
	cat >"$T/orders.csv" <<-CSV
	order_id,email,created_at,total
	1,ada@example.com,2026-01-10,900.00
	2,ada@example.com,2026-06-10,700.00
	3,cy@example.com,2026-03-01,20.00
	4,dee@example.com,2026-03-01,25.00
	5,eve@example.com,2026-03-01,30.00
	6,fay@example.com,2026-03-01,35.00
	CSV
	"$PATRON" --db "$DB" --now $NOW import orders "$T/orders.csv" >/dev/null
	# The same mild displeasure from each (sentiment about -0.4): high
	# priority only for the customer who matters.
	printf 'From: max@example.com\nSubject: Lid\nMessage-ID: <x1@x>\nDate: Mon, 23 Nov 2026 09:00:00 +0000\n\nSadly the lid is missing.\n' >"$T/1.eml"
	printf 'From: ada@example.com\nSubject: Mug\nMessage-ID: <x2@x>\nDate: Sun, 29 Nov 2026 09:00:00 +0000\n\nThe mug is a bit disappointing.\n' >"$T/2.eml"
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/1.eml" "$T/2.eml" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW --json inbox
	expect_rc 0
	expect_eq "$(/usr/bin/python3 -c 'import json,sys; print([(t["email"], t["priority"], t["spent"]) for t in json.load(open(sys.argv[1]))])' "$T/out")" \
		"[('ada@example.com', 'high', 1600.0), ('max@example.com', 'normal', 0.0)]"
	run "$PATRON" --db "$DB" --now $NOW inbox --sort oldest
	expect_rc 0
	expect_eq "$(grep -o '^#[0-9]*' "$T/out" | tr '\n' ' ')" "#1 #2 "
	expect_in "$T/out" "spent 1600.00 in 2 orders"
	expect_in "$T/out" '"Mug" (1 message)'
	run "$PATRON" --db "$DB" inbox --status solved
	expect_in "$T/out" "no solved tickets"
	run "$PATRON" --db "$DB" inbox --status maybe
	expect_rc 2
}

t_late_tickets_and_new_questions_reach_the_rules() {
	conf
	maildir
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/Maildir" >/dev/null
	mkdir -p "$T/rules"
	cat >"$T/rules/inbox.lua" <<-'LUA'
	rule { name = "late", on = "ticket.overdue",
	  act = function(c, e) tag(c, "late-" .. e.ticket) end }
	rule { name = "angry", on = "inquiry.received",
	  where = function(c, e) return e.sentiment ~= nil and e.sentiment < -0.5
	    and string.find(e.text, "teapot") ~= nil end,
	  act = function(c, e) tag(c, "angry") end }
	LUA
	# Li's question (Sunday 21:00 UTC) is not answered a day later; Ada's was.
	run "$PATRON" --db "$DB" --now 2026-11-30T22:00:00 run "$T/rules"
	expect_rc 0
	expect_in "$T/out" "1 tickets waited longer than sla.first_response (24h) for an answer: ticket.overdue"
	expect_eq "$(q "SELECT group_concat(i.value || ':' || t.tag, ' ') FROM tags t JOIN identities i ON i.customer_id = t.customer_id ORDER BY 1")" \
		"ada@example.com:angry li@example.cn:late-2"
	# said once
	run "$PATRON" --db "$DB" --now 2026-12-01T22:00:00 run "$T/rules"
	expect_eq "$(q "SELECT count(*) FROM events WHERE topic = 'ticket.overdue'")" 1
}

t_bad_sources_are_refused_and_erasure_takes_the_tickets() {
	conf
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/missing"
	expect_rc 1
	expect_in "$T/err" "$T/missing: cannot read it: No such file or directory"
	mkdir "$T/empty"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/empty"
	expect_rc 0
	expect_in "$T/out" "0 messages"
	printf 'Subject: who wrote this?\n\nno sender\n' >"$T/anon.eml"
	run "$PATRON" --db "$DB" --now $NOW import inbox "$T/anon.eml"
	expect_in "$T/out" "1 messages without a sender address left out"
	maildir
	"$PATRON" --db "$DB" --now $NOW import inbox "$T/Maildir" >/dev/null
	run "$PATRON" --db "$DB" --now $NOW erase ada@example.com --yes
	expect_rc 0
	expect_in "$T/out" "1 tickets cleared"
	expect_eq "$(q "SELECT count(*) FROM tickets")" 1
	expect_eq "$(q "SELECT count(*) FROM ticket_messages")" 1
	grep -c "teapot" "$DB" >/dev/null && fail "what Ada wrote is still in the store file"
	true
}

# start_dovecot PORT: Debian's IMAP server on 127.0.0.1:PORT with a
# throwaway config, one user "shop" (password in $IMAP_PASSWORD) whose
# Maildir is $T/imap/home/shop/Maildir. As root its processes run as
# Debian's dovecot users (it refuses root); otherwise as the caller.
start_dovecot() {
	local port=$1 D=$T/imap internal login uid gid
	command -v dovecot >/dev/null || fail "dovecot is not installed (make check installs dovecot-imapd)"
	mkdir -p "$D/run" "$D/state" "$D/home/shop/Maildir/new" "$D/home/shop/Maildir/cur" "$D/home/shop/Maildir/tmp"
	if [ "$(id -u)" -eq 0 ]; then
		internal=dovecot login=dovenull uid=dovecot gid=dovecot
	else
		internal=$(id -un) login=$(id -un) uid=$(id -u) gid=$(id -g)
	fi
	cat >"$D/dovecot.conf" <<-CONF
	base_dir = $D/run
	state_dir = $D/state
	log_path = $D/dovecot.log
	protocols = imap
	listen = 127.0.0.1
	ssl = no
	disable_plaintext_auth = no
	auth_mechanisms = plain
	first_valid_uid = 0
	default_internal_user = $internal
	default_internal_group = $(id -gn "$internal")
	default_login_user = $login
	passdb {
	  driver = passwd-file
	  args = scheme=PLAIN username_format=%u $D/users
	}
	userdb {
	  driver = static
	  args = uid=$uid gid=$gid home=$D/home/%u
	}
	mail_location = maildir:~/Maildir
	service imap-login {
	  chroot =
	  inet_listener imap {
	    address = 127.0.0.1
	    port = $port
	  }
	  inet_listener imaps {
	    port = 0
	  }
	}
	service anvil {
	  chroot =
	}
	CONF
	echo "shop:{PLAIN}$IMAP_PASSWORD::::::" >"$D/users"
	cp "$T"/Maildir/cur/* "$T"/Maildir/new/* "$D/home/shop/Maildir/new/"
	if [ "$(id -u)" -eq 0 ]; then
		# the server's own users reach the passwords and the mailbox
		chmod 755 "$T" "$D"
		chown -R "$uid:$gid" "$D/home"
	fi
	dovecot -F -c "$D/dovecot.conf" >"$D/master.log" 2>&1 &
	echo $! >"$T/.server-dovecot.pid"
	for _ in $(seq 100); do
		/usr/bin/python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "dovecot did not start: $(cat "$D/master.log" "$D/dovecot.log" 2>/dev/null | tail -5)"
}

t_an_imap_mailbox_is_read_from_a_real_server() {
	conf
	maildir
	IMAP_PASSWORD=imap-s3cret-$$
	port=$(free_port)
	start_dovecot "$port"
	URL="imap://127.0.0.1:$port/INBOX"
	# the password only from the environment (or a file): never the address
	run "$PATRON" --db "$DB" --now $NOW import inbox --imap "imap://shop:$IMAP_PASSWORD@127.0.0.1:$port/INBOX"
	expect_rc 1
	expect_in "$T/err" "a password does not belong in the mailbox's address"
	run env PATRON_IMAP_PASSWORD=wrong "$PATRON" --db "$DB" --now $NOW import inbox --imap "$URL" --user shop
	expect_rc 1
	expect_in "$T/err" "$URL: Login denied"
	expect_eq "$(q "SELECT count(*) FROM ticket_messages")" 0
	unseen=$(curl -s --user "shop:$IMAP_PASSWORD" "$URL" -X 'UID SEARCH UNSEEN' | tr -d '\r')
	expect_eq "$unseen" "* SEARCH 3 4 5"	# the ones delivered to new/ (cur/'s are seen)
	run env PATRON_IMAP_PASSWORD="$IMAP_PASSWORD" "$PATRON" --db "$DB" --now $NOW import inbox --imap "$URL" --user shop
	expect_rc 0
	expect_in "$T/out" "$URL: 5 messages: 3 new from customers in 2 new tickets, 1 answers from the shop, 0 already in the store; 2 new customers"
	expect_eq "$(q "SELECT body FROM ticket_messages WHERE message_id = '<CAF-ada-2@mail.gmail.com>'")" \
		"It came, très bien. Thank you!"
	grep -rqF "$IMAP_PASSWORD" "$T/out" "$T/err" "$DB" && fail "the password was written down"
	# what the owner had not read is still unread in their mail program
	expect_eq "$(curl -s --user "shop:$IMAP_PASSWORD" "$URL" -X 'UID SEARCH UNSEEN' | tr -d '\r')" \
		"$unseen"
	# Later: only what arrived since is fetched
	printf 'From: new@example.com\nSubject: Hello\nMessage-ID: <new-1@example.com>\n\nAre you open on Sunday?\n' \
		>"$T/imap/home/shop/Maildir/new/1796100000.M9P9.mx"
	if [ "$(id -u)" -eq 0 ]; then chown -R dovecot:dovecot "$T/imap/home"; fi
	cat >>"$T/patron.conf" <<-CONF
	inbox = { imap = "$URL", user = "shop", addresses = "help@shop.example, owner@gmail.example" }
	CONF
	run env PATRON_IMAP_PASSWORD="$IMAP_PASSWORD" "$PATRON" --db "$DB" --now $NOW import inbox
	expect_rc 0
	expect_in "$T/out" "$URL: 1 messages: 1 new from customers in 1 new tickets"
	expect_eq "$(q "SELECT count(*) FROM tickets")" 3
	stop_server dovecot
}
