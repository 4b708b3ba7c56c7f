#!/usr/bin/env python3
"""Writes the everyday corpus: legitimate mail that looks nothing like the
seller corpus one folder up (mailing-list posts, newsletters, personal mail,
code review mail, webmail footers, signed mail, invitations, several
languages). Every message here must be accepted for every recipient: the
corpus test counts false holds and keeps that count at 0.

Run with Python 3.11+ from this folder; it rewrites every NNN-*.eml.
All addresses use reserved example domains.
"""
import base64
import pathlib

HERE = pathlib.Path(__file__).parent
MESSAGES = []


def msg(name, headers, body, charset="utf-8", cte="8bit", raw_body=None):
    """A single-part text/plain message; `charset=None` declares none."""
    h = list(headers)
    h.append("MIME-Version: 1.0")
    ct = "text/plain" + (f"; charset={charset}" if charset else "")
    h.append(f"Content-Type: {ct}")
    h.append(f"Content-Transfer-Encoding: {cte}")
    head = "\r\n".join(h).encode() + b"\r\n\r\n"
    if raw_body is None:
        raw_body = body.replace("\n", "\r\n").encode(charset or "utf-8")
    MESSAGES.append((name, head + raw_body))


def multipart(name, headers, ctype, parts):
    """parts: list of (headers list, body str)."""
    boundary = "=_b" + str(len(MESSAGES)) + "_x"
    h = list(headers) + ["MIME-Version: 1.0", f"Content-Type: {ctype}; boundary=\"{boundary}\""]
    out = "\r\n".join(h) + "\r\n\r\n"
    for ph, pb in parts:
        out += f"--{boundary}\r\n" + "\r\n".join(ph) + "\r\n\r\n" + pb.replace("\n", "\r\n") + "\r\n"
    out += f"--{boundary}--\r\n"
    MESSAGES.append((name, out.encode()))


def hdr(frm, to, subject, date="Tue, 10 Nov 2026 09:14:00 +0100", extra=(), mid=None):
    mid = mid or f"<everyday.{len(MESSAGES) + 1}@{frm.split('@')[-1].rstrip('>')}>"
    return [f"From: {frm}", f"To: {to}", f"Subject: {subject}", f"Date: {date}", f"Message-ID: {mid}", *extra]


def b64(data: bytes) -> str:
    s = base64.b64encode(data).decode()
    return "\n".join(s[i:i + 76] for i in range(0, len(s), 76))


LIST = ["List-Id: <dev.lists.example.org>", "List-Unsubscribe: <mailto:dev-leave@lists.example.org>",
        "Precedence: list"]

# --- mailing-list posts --------------------------------------------------
msg("001-list-quoting-with-ellipsis", hdr("Petra Novak <petra@uni.example.cz>", "dev@lists.example.org",
    "Re: [dev] release notes wording", extra=LIST + ["In-Reply-To: <a1@lists.example.org>"]), """\
Hi Tom,

> As the changelog says, "the parser [...] now rejects bare CR".

I would keep the quote as it is; the [...] marks where I cut a long
sentence. The original wording (with its typo "recieve" [sic]) is in
the 2.3 notes, see [1] and [2].

[1] https://lists.example.org/archive/2026/0412.html
[2] https://lists.example.org/archive/2026/0419.html

Petra

_______________________________________________
dev mailing list
dev@lists.example.org
https://lists.example.org/mailman/listinfo/dev
""")

msg("002-list-bar-quoted-answer-below", hdr("jhk@home.example.net", "users@lists.example.org",
    "Re: printing to a network printer", extra=LIST + ["In-Reply-To: <a2@lists.example.org>"]), """\
On Sun, 8 Nov 2026, Mara wrote:
| I added the printer with its IP address but every job stays queued.
| The printer answers ping.

Check that the queue uses the IPP driver, not the old LPD one; LPD
needs port 515 open, and most new printers have it off by default.
After switching the driver, restart the print service and send a test
page. If it still hangs, the job log usually says which port it tried.

Jan
""")

msg("003-list-code-with-braces", hdr("Ravi Menon <ravi@devs.example.in>", "rust-users@lists.example.org",
    "Re: formatting a struct field by name", extra=LIST + ["In-Reply-To: <a3@lists.example.org>"]), """\
Hi,

you can name the argument inside the braces since 2021:

    let name = "Anna";
    println!("Hello {name}, you have {count} new messages");

In Ruby the same thing is "Hello %{name}" with a hash, and Python has
f"Hello {name}". The old positional form {0} still works too.

Ravi
""")

msg("004-list-template-engine-question", hdr("lea@webdev.example.fr", "templating@lists.example.org",
    "Jinja: default value for a missing variable", extra=LIST), """\
Hello list,

in my template I write {{ user.first_name | default("friend") }} but
when user is undefined the whole page fails. The docs mention
{% if user is defined %} ... {% endif %} as the safe way; is there a
shorter form for a single field?

Thanks,
Léa
""")

msg("005-list-digest-plain", hdr("announce-request@lists.example.org", "kim@mail.example.com",
    "Announce Digest, Vol 112, Issue 3", extra=LIST), """\
Send Announce mailing list submissions to
	announce@lists.example.org

Today's Topics:

   1. Release 4.2.0 (Maintainers)
   2. Security advisory for 4.1.x (Security team)

----------------------------------------------------------------------

Message: 1
Date: Mon, 9 Nov 2026 10:00:00 +0000
From: Maintainers <maint@project.example.org>
Subject: Release 4.2.0

Version 4.2.0 is out. Highlights: faster startup, a new config check
command, and Windows builds signed again.

------------------------------

Message: 2
Subject: Security advisory for 4.1.x

Please upgrade to 4.1.9 or 4.2.0; details in the advisory.

End of Announce Digest, Vol 112, Issue 3
****************************************
""")

# --- code review mail ----------------------------------------------------
msg("006-code-review-diff", hdr("Review Bot <review@code.example.com>", "dev-team@code.example.com",
    "[project] Change 4411: Use named format args (+2)", extra=["In-Reply-To: <c1@code.example.com>"]), """\
Attention is currently required from: Mei Lin.

Sam Berg has posted comments on this change.

Patch set 3: Code-Review+2

File src/report.rs:

@@ -12,7 +12,7 @@ fn greet(user: &User) -> String {
-    format!("Dear {}, your order {} shipped", user.name, order.id)
+    format!("Dear {name}, your order {id} shipped", name = user.name, id = order.id)

Line 14: nit: keep {id} next to the order noun as above.

To view, visit https://code.example.com/c/project/+/4411
""")

msg("007-github-style-notification", hdr("Alex Kim <notifications@forge.example.com>", "project@noreply.forge.example.com",
    "Re: [org/tool] Template field {customer_name} is not filled in exports (Issue #88)",
    extra=["In-Reply-To: <org/tool/issues/88@forge.example.com>", "List-Unsubscribe: <https://forge.example.com/unsub/88>"]), """\
I can reproduce this on 3.1: the export writes the literal text
`{customer_name}` instead of the value when the column is empty.

Steps:
1. Create an invoice without a customer
2. Export to PDF
3. The header shows `{customer_name}`

Proposed fix in #90.

--
Reply to this email directly or view it on the forge:
https://forge.example.com/org/tool/issues/88#comment-3
""")

msg("008-patch-mail", hdr("Ola Nordmann <ola@kernel.example.no>", "devel@lists.example.org",
    "[PATCH v2 3/5] net: fix off-by-one in %{}-style ring index", extra=LIST), """\
The ring index wrapped one slot early when the size was a power of two.

Signed-off-by: Ola Nordmann <ola@kernel.example.no>
---
 drivers/net/ring.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/drivers/net/ring.c b/drivers/net/ring.c
--- a/drivers/net/ring.c
+++ b/drivers/net/ring.c
@@ -40,7 +40,7 @@ static int ring_next(struct ring *r)
-	return (r->head + 1) & (r->size);
+	return (r->head + 1) & (r->size - 1);
 }
--
2.47.0
""")

# --- newsletters -----------------------------------------------------------
NEWS = ["List-Unsubscribe: <https://news.example.com/u/123>", "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Precedence: bulk"]
multipart("009-newsletter-html-pixel-logo", hdr("Garden Weekly <hello@garden.example.com>", "reader@mail.example.net",
    "This week: frost-proof pots and winter pruning", extra=NEWS), "multipart/alternative", [
    (["Content-Type: text/plain; charset=utf-8"], """\
Garden Weekly

Winter pruning: cut back roses after the first frost, not before.
Frost-proof pots: terracotta cracks, glazed stoneware does not.
Reader question: can I leave dahlias in the ground? In mild areas, yes,
under a thick mulch.

You get this because you subscribed at garden.example.com.
Unsubscribe: https://news.example.com/u/123
"""),
    (["Content-Type: text/html; charset=utf-8"], """\
<html><body><table width="600"><tr><td><img src="https://garden.example.com/logo.png" width="200" height="60" alt="Garden Weekly"></td></tr>
<tr><td><h2>Winter pruning</h2><p>Cut back roses after the first frost, not before.</p>
<h2>Frost-proof pots</h2><p>Terracotta cracks, glazed stoneware does not.</p>
<p>Reader question: can I leave dahlias in the ground? In mild areas, yes, under a thick mulch.</p>
<p style="font-size:11px">You get this because you subscribed. <a href="https://news.example.com/u/123">Unsubscribe</a></p>
<img src="https://news.example.com/open/123.gif" width="1" height="1" alt=""></td></tr></table></body></html>
"""),
])

msg("010-newsletter-template-footer", hdr("Open Data Monthly <news@opendata.example.org>", "sub@mail.example.com",
    "Open Data Monthly, November", extra=NEWS), """\
Open Data Monthly, November 2026

New datasets: city bike counts (hourly, 2019-2026), school catchment
areas, and the tree register with species and planting year.

Workshop: "Cleaning messy CSV files", 3 December, online, free.

--
You receive this as a subscriber. Manage: {{ manage_url }}
{% if region %}Regional edition: {{ region }}{% endif %}
""")

msg("011-newsletter-de-unsubscribe", hdr("Stadtbibliothek <info@bibliothek.example.de>", "leser@mail.example.de",
    "Neu in der Bibliothek: Lesungen im Dezember", extra=NEWS), """\
Liebe Leserinnen und Leser,

im Dezember lesen drei Autorinnen aus ihren neuen Büchern, jeweils
donnerstags um 19 Uhr im Lesesaal. Der Eintritt ist frei, um Anmeldung
wird gebeten.

Die Bibliothek bleibt vom 24. Dezember bis 1. Januar geschlossen.

Ihre Stadtbibliothek

Abmelden: https://news.example.com/u/123
""")

# --- personal mail ------------------------------------------------------
msg("012-personal-short", hdr("Sam <sam@mail.example.com>", "Jo <jo@mail.example.net>", "dinner sat?"), """\
hey, still on for saturday? I can bring dessert. 7ish?
""")

msg("013-personal-hi-there", hdr("Nina <nina@mail.example.com>", "Chris <chris@mail.example.org>", "photos from the trip"), """\
Hi there,

finally sorted the photos from the lake. The good ones are in the shared
album; the blurry ones I kept out. Tell me if you want the originals.

Nina
""")

msg("014-personal-de-umlauts-latin1", hdr("Oma Ilse <ilse@mail.example.de>", "Paul <paul@mail.example.de>",
    "Weihnachten"), """\
Lieber Paul,

wir freuen uns sehr, dass Ihr Weihnachten zu uns kommt. Opa hat schon
den Baum besorgt. Bringt bitte warme Schuhe mit, es soll Schnee geben.

Viele Grüße und bis bald
Oma
""", charset="iso-8859-1")

msg("015-personal-fr", hdr("Claire <claire@mail.example.fr>", "Hugo <hugo@mail.example.fr>", "Re: déménagement",
    extra=["In-Reply-To: <m15@mail.example.fr>"]), """\
Salut Hugo,

merci pour le coup de main samedi ! Les cartons sont presque tous
vidés. Je te rends la perceuse la semaine prochaine.

Bises,
Claire
""")

msg("016-personal-es", hdr("Lucía <lucia@mail.example.es>", "Marta <marta@mail.example.es>", "cumpleaños de papá"), """\
Hola Marta:

¿Qué te parece si le regalamos a papá el libro de fotos del viaje a
Galicia? Yo puedo encargarlo mañana. Son unos 40 euros entre las dos.

Un abrazo,
Lucía
""")

msg("017-personal-zh", hdr("王芳 <wangfang@mail.example.cn>", "李娜 <lina@mail.example.cn>", "周末爬山"), """\
娜娜：

周六早上八点在地铁站见面吧，记得带水和防晒霜。天气预报说是晴天，
下午可能有点热。爬完山我们去吃那家面馆，好久没去了。

芳
""")

msg("018-personal-ja", hdr("佐藤 花子 <hanako@mail.example.jp>", "田中 一郎 <ichiro@mail.example.jp>", "先日のお礼"), """\
田中さん

先日は美味しいお菓子をありがとうございました。家族みんなでいただきました。
また近いうちにお茶でもしましょう。

佐藤
""", charset="iso-2022-jp", cte="7bit")

msg("019-personal-ru", hdr("Ольга <olga@mail.example.ru>", "Ирина <irina@mail.example.ru>", "Re: рецепт пирога",
    extra=["In-Reply-To: <m19@mail.example.ru>"]), """\
Ира, привет!

Вот рецепт: 3 яйца, стакан сахара, стакан муки, яблоки. Печь 40 минут
при 180 градусах. Главное, не открывай духовку первые полчаса.

Оля
""", charset="koi8-r")

msg("020-personal-pt-br", hdr("Beatriz <bia@mail.example.com.br>", "Rafael <rafa@mail.example.com.br>", "viagem"), """\
Oi Rafa,

consegui as passagens para Salvador! Saímos dia 12 cedinho e voltamos
no dia 19. Vê se consegue folga na sexta também.

Beijos,
Bia
""")

# --- webmail footers, undeclared charsets ----------------------------------
msg("021-webmail-footer-undeclared-1252", hdr("Dan <dan@mail.example.com>", "Eve <eve@mail.example.org>", "Re: keys",
    extra=["In-Reply-To: <m21@mail.example.org>"]), "", charset=None,
    raw_body=b"I left the keys with the neighbour, flat 2.\r\n\r\n--\r\nSent from my phone. Please excuse typos; it\x92s a small screen.\r\n")

msg("022-webmail-undeclared-quotes-1252", hdr("Marie <marie@mail.example.be>", "Tom <tom@mail.example.be>",
    "quiz night"), "", charset=None,
    raw_body=b"Tom,\r\n\r\nwe\x92re team \x93The Usual Suspects\x94 again; bring a pen. Starts 8 pm.\r\n\r\nMarie\r\n")

msg("023-foxmail-undeclared-gbk", hdr("陈明 <chenming@mail.example.cn>", "张伟 <zhangwei@mail.example.cn>", "Re: meeting",
    extra=["X-Mailer: Foxmail 7.2.25.228[cn]", "In-Reply-To: <m23@mail.example.cn>"]), "", charset=None,
    raw_body="张伟，明天下午三点的会议改到四点，地点不变。\r\n\r\n陈明\r\n".encode("gbk"))

msg("024-single-replacement-char-in-name", hdr("Ana <ana@mail.example.pt>", "Rui <rui@mail.example.pt>", "Re: invoice copy",
    extra=["In-Reply-To: <m24@mail.example.pt>"]), """\
Rui,

here is the copy you asked for. The scanner wrote the file name as
"Fatura_Jo\ufffdo.pdf", but the content is fine.

Ana
""")

# --- signed mail -----------------------------------------------------------
msg("025-pgp-clearsigned", hdr("Security Team <security@project.example.org>", "announce@lists.example.org",
    "[SECURITY] Advisory 2026-07: path traversal in archive import", extra=LIST), """\
-----BEGIN PGP SIGNED MESSAGE-----
Hash: SHA512

Advisory 2026-07

A crafted archive could write outside the import folder. Fixed in
4.1.9 and 4.2.0. Users of earlier versions should upgrade.

Credit: reported by an external researcher.
- -- 
Security Team
-----BEGIN PGP SIGNATURE-----

iQIzBAEBCgAdFiEEu5kQfJw3dTQ8tWZ0b3Vyc2lnbmF0dXJlAAoJEG91cnNpZ25h
dHVyZQ1fQAA/9F0aWxsIG5vdCBhIHJlYWwgc2lnbmF0dXJlIGJ1dCBzaGFwZWQgbGlr
=Ab12
-----END PGP SIGNATURE-----
""")

multipart("026-pgp-mime-signed", hdr("Karin <karin@mail.example.se>", "Lars <lars@mail.example.se>", "Re: nyckeln",
    extra=["In-Reply-To: <m26@mail.example.se>"]),
    "multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"", [
    (["Content-Type: text/plain; charset=utf-8"], "Hej Lars,\n\nja, det är min nya nyckel. Fingeravtrycket stämmer.\n\nKarin\n"),
    (["Content-Type: application/pgp-signature; name=\"signature.asc\"", "Content-Disposition: attachment; filename=\"signature.asc\""],
     "-----BEGIN PGP SIGNATURE-----\n\niHUEARYIAB0WIQRzaWduYXR1cmUgc2hhcGVkIHRleHQAAAAA\n=Zx9Q\n-----END PGP SIGNATURE-----"),
])

multipart("027-smime-signed-short", hdr("Dr. Weber <weber@klinik.example.de>", "Frau Brandt <brandt@praxis.example.de>",
    "Befund", date="Wed, 11 Nov 2026 08:02:00 +0100"),
    "multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256", [
    (["Content-Type: text/plain; charset=utf-8"], "Sehr geehrte Frau Brandt,\n\nder Befund ist unauffällig.\n\nMit freundlichen Grüßen\nDr. Weber\n"),
    (["Content-Type: application/pkcs7-signature; name=\"smime.p7s\"", "Content-Transfer-Encoding: base64",
      "Content-Disposition: attachment; filename=\"smime.p7s\""], b64(b"0\x82\x06\xc7\x06\t*\x86H\x86\xf7\r\x01\x07\x02" * 40)),
])

# --- invitations, cards, Outlook HTML ----------------------------------------
multipart("028-calendar-invite", hdr("Priya <priya@corp.example.com>", "Tom <tom@partner.example.com>",
    "Invitation: Quarterly review @ Thu 19 Nov 10:00"), "multipart/mixed", [
    (["Content-Type: text/plain; charset=utf-8"], "Quarterly review\nThu 19 Nov 2026 10:00-11:00 (CET)\nRoom 4.12 / video link in the invite\n"),
    (["Content-Type: text/calendar; charset=utf-8; method=REQUEST", "Content-Disposition: attachment; filename=\"invite.ics\""],
     "BEGIN:VCALENDAR\nVERSION:2.0\nMETHOD:REQUEST\nBEGIN:VEVENT\nUID:q4@corp.example.com\nDTSTART:20261119T090000Z\nDTEND:20261119T100000Z\nSUMMARY:Quarterly review\nEND:VEVENT\nEND:VCALENDAR"),
])

multipart("029-vcard-attached", hdr("Jonas <jonas@studio.example.dk>", "Freja <freja@mail.example.dk>", "my new number"), "multipart/mixed", [
    (["Content-Type: text/plain; charset=utf-8"], "Hi Freja, new phone, new number: card attached.\n\nJonas\n"),
    (["Content-Type: text/vcard; charset=utf-8; name=\"jonas.vcf\"", "Content-Disposition: attachment; filename=\"jonas.vcf\""],
     "BEGIN:VCARD\nVERSION:3.0\nFN:Jonas Holm\nTEL:+45 12 34 56 78\nEND:VCARD"),
])

LOGO = b"\x89PNG\r\n\x1a\n" + b"\x00" * 2400
multipart("030-outlook-html-signature-logo", hdr("Mark Davies <mark@firm.example.co.uk>", "Sue <sue@client.example.co.uk>",
    "RE: meeting notes", extra=["In-Reply-To: <m30@client.example.co.uk>"]), "multipart/related", [
    (["Content-Type: text/html; charset=utf-8"], """\
<html><body><p>Thanks Sue, all agreed.</p><p>Mark</p>
<p><img src="cid:image001.png@01DB1234.ABCDEF00" alt="Firm logo"></p></body></html>"""),
    (["Content-Type: image/png; name=\"image001.png\"", "Content-ID: <image001.png@01DB1234.ABCDEF00>",
      "Content-Disposition: attachment; filename=\"image001.png\"", "Content-Transfer-Encoding: base64"], b64(LOGO)),
])

multipart("031-nodemailer-html-pixel", hdr("Booking <bookings@clinic.example.com>", "patient@mail.example.com",
    "Your appointment on 20 November"), "multipart/alternative", [
    (["Content-Type: text/html; charset=utf-8"], """\
<p>Your appointment: Friday 20 November, 14:30, Dr. Meyer, room 2.</p>
<p>To change it, reply to this mail.</p><img src="https://track.clinic.example.com/pixel?id=77" alt="">"""),
])

# --- more languages and everyday business -------------------------------------
msg("032-it-condominio", hdr("Amministrazione <admin@condominio.example.it>", "condomini@condominio.example.it",
    "Assemblea di condominio", extra=["Precedence: bulk", "List-Unsubscribe: <mailto:leave@condominio.example.it>"]), """\
Gentili condomini,

l'assemblea ordinaria si terrà martedì 24 novembre alle 20:30 nella sala
comune. All'ordine del giorno: bilancio 2026, lavori al tetto, varie.

L'amministratore
""")

msg("033-nl-sportclub", hdr("Penningmeester <penning@club.example.nl>", "leden@club.example.nl",
    "Contributie 2027", extra=["Precedence: list", "List-Id: <leden.club.example.nl>", "List-Unsubscribe: <mailto:leden-off@club.example.nl>"]), """\
Beste leden,

de contributie voor 2027 blijft gelijk: 120 euro per jaar. Het
incasso volgt half januari. Vragen? Mail de penningmeester.

Groet,
Bestuur
""")

msg("034-pl-landlord", hdr("Tomasz <tomasz@mail.example.pl>", "Kasia <kasia@mail.example.pl>", "Re: ogrzewanie",
    extra=["In-Reply-To: <m34@mail.example.pl>"]), """\
Cześć Kasiu,

hydraulik przyjdzie w czwartek między 10 a 12. Jeśli nie będzie Cię w
domu, zostaw klucz u sąsiadki.

Tomek
""")

msg("035-tr-friends", hdr("Elif <elif@mail.example.com.tr>", "Deniz <deniz@mail.example.com.tr>", "hafta sonu"), """\
Selam Deniz,

cumartesi kahvaltıya bize gel, annem börek yapıyor. Saat onda
bekliyoruz.

Elif
""")

msg("036-ko-family", hdr("김민수 <minsu@mail.example.kr>", "김지은 <jieun@mail.example.kr>", "주말 계획"), """\
지은아,

이번 주말에 부모님 댁에 같이 가자. 토요일 아침 9시에 데리러 갈게.

오빠가
""")

msg("037-ar-colleague", hdr("أحمد <ahmed@mail.example.ae>", "سارة <sara@mail.example.ae>", "اجتماع الغد"), """\
مرحبا سارة،

اجتماع الغد في الساعة العاشرة في القاعة الثانية. أرجو إحضار التقرير.

أحمد
""")

msg("038-en-contract-brackets", hdr("Legal <legal@firm.example.com>", "Ops <ops@firm.example.com>",
    "Re: clause 4 wording", extra=["In-Reply-To: <m38@firm.example.com>"]), """\
Hi Ops,

Clause 4 now reads: "The Supplier [shall] deliver within [30] days".
The brackets mark the two points still open with the other side; please
don't fill them in yet. Section [4.2] stays as drafted.

Thanks,
Legal
""")

msg("039-en-forum-markdown-table", hdr("Forum <forum@community.example.org>", "member@mail.example.net",
    "Weekly summary: most liked posts", extra=NEWS), """\
Most liked posts this week:

| Post | Likes |
|------|-------|
| How I fixed my bike's gears | 214 |
| Sourdough at high altitude | 187 |

See you next week!
""")

msg("040-en-school-newsletter-dear-parents", hdr("School Office <office@school.example.org.uk>", "parents@school.example.org.uk",
    "Class trip on Friday", extra=["Precedence: bulk", "List-Unsubscribe: <mailto:office@school.example.org.uk?subject=unsubscribe>"]), """\
Dear parents,

on Friday Year 4 visits the science museum. Please send your child with
a packed lunch and a rain jacket; we are back by 3 pm.

School Office
""")

msg("041-en-receipt-percent", hdr("Café Lumen <receipts@cafe.example.com>", "guest@mail.example.com",
    "Your receipt"), """\
Thank you for visiting Café Lumen!

Flat white        3.20
Croissant         2.40
Total             5.60 (incl. 7% VAT)

Loyalty: 8 of 10 stamps. 100% of tips go to the team.
""")

msg("042-ja-newsletter-marumaru-free", hdr("市立図書館 <info@library.example.jp>", "reader@mail.example.jp",
    "12月の休館日のお知らせ", extra=NEWS), """\
利用者のみなさま

12月の休館日は、7日、14日、21日、28日、および12月29日から1月3日です。
返却ポストは休館日もご利用いただけます。

市立図書館
""", charset="iso-2022-jp", cte="7bit")

for name, data in MESSAGES:
    (HERE / f"{name}.eml").write_bytes(data)
print(f"{len(MESSAGES)} messages")
