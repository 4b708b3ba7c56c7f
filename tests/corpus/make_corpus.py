#!/usr/bin/env python3
"""Generates the sendwell policy corpus: NNN-name.eml + NNN-name.json + README.md.

Every message below is written by hand as the mail a cross-border seller would send; this
script only does the MIME work (CRLF, charsets, RFC 2047 words, base64/QP, small but real
attachment files) so the corpus can be regenerated and reviewed. Run it from any directory:

    python3 tests/corpus/make_corpus.py

It also checks itself: every expected verdict is recomputed from the default weights in
RULES.md, subjects are measured against the subject rules, and every rule this corpus must
cover is listed at least once in `hits` and once in `not_hits`.
"""

import base64
import io
import json
import os
import quopri
import re
import struct
import sys
import zipfile
import zlib
from email import message_from_bytes, policy as email_policy

HERE = os.path.dirname(os.path.abspath(__file__))

# ---------------------------------------------------------------------------
# Rule catalogue (defaults from RULES.md) used to recompute expected verdicts.
# ---------------------------------------------------------------------------

HOLD_AT = 6.0
REJECT_AT = 12.0

#: Message-level rules and their default weights (variable ones computed below).
MESSAGE_WEIGHTS = {
    "SUBJECT_MISSING": 4,
    "SUBJECT_EXCLAMATION": None,  # 1.5 for one "!", 3 for two or more
    "SUBJECT_EMOJI": 2,
    "SUBJECT_SYMBOLS": 1.5,
    "SUBJECT_ALL_CAPS": 2,
    "SUBJECT_SPAM_PHRASE": None,  # 1 each, max 3
    "SUBJECT_TOO_LONG": 0.5,
    "BODY_EMPTY": 8,
    "BODY_IMAGE_ONLY": 5,
    "BODY_ATTACHMENT_ONLY": 5,
    "TEMPLATE_PLACEHOLDER": 7,  # and a fixed action: hold
    "GENERIC_GREETING": 1,
    "HTML_ONLY": 1,
    "LINK_MISMATCH": 4,
    "LINK_SHORTENER": 1.5,
    "LINK_HEAVY": 1,
    "BODY_SPAM_PHRASE": None,  # 0.5 each, max 2
    "MOJIBAKE": 6,
    "WALL_OF_TEXT": 0.5,
    "VISIBLE_RECIPIENTS": 4,
    "BULK_NO_UNSUBSCRIBE": 2,
    "ATTACH_EXECUTABLE": 0,  # fixed action: reject
    "ATTACH_LARGE": 3,
    "ATTACH_ARCHIVE": 1.5,
    "FREEMAIL_SENDER": 2,
}

#: Rules that depend on the recipient (country, cold or not, the address itself).
RECIPIENT_WEIGHTS = {
    "WRONG_LANGUAGE": 6,
    "ATTACH_ON_COLD": 2,
    "READ_RECEIPT_COLD": 0,  # strip the header, no score
    "RCPT_NO_REPLY": None,  # refuse that recipient
    "RCPT_TYPO": None,  # refuse that recipient
    "RCPT_DISPOSABLE": None,  # hold that recipient
    "ETIQUETTE_DE_FORMAL": 0.5,
    "ETIQUETTE_JP_HONORIFIC": 0.5,
    "ETIQUETTE_RED_PAYMENT": 0.5,
}

#: Every rule the corpus must show firing once and not firing (near miss) once.
MUST_COVER = [r for r in MESSAGE_WEIGHTS] + [r for r in RECIPIENT_WEIGHTS]

SUBJECT_SPAM = ["free", "100% guaranteed", "act now", "limited time", "click here",
                "winner", "cheap", "urgent"]


# ---------------------------------------------------------------------------
# MIME helpers
# ---------------------------------------------------------------------------

def is_ascii(s):
    return all(ord(c) < 128 for c in s)


def encoded_words(text, charset="utf-8", enc="B"):
    """RFC 2047 encoded words, each at most 75 characters, chunked on character boundaries
    so every word decodes on its own (needed for stateful ISO-2022-JP)."""
    words = []
    prefix = f"=?{charset}?{enc}?"
    chunk = ""

    def encode(s):
        raw = s.encode(charset)
        if enc == "B":
            return base64.b64encode(raw).decode("ascii")
        out = []
        for b in raw:
            ch = chr(b)
            if ch == " ":
                out.append("_")
            elif 33 <= b <= 126 and ch not in "=?_\"":
                out.append(ch)
            else:
                out.append(f"={b:02X}")
        return "".join(out)

    for c in text:
        cand = chunk + c
        if len(prefix) + len(encode(cand)) + 2 > 75 and chunk:
            words.append(prefix + encode(chunk) + "?=")
            chunk = c
        else:
            chunk = cand
    if chunk:
        words.append(prefix + encode(chunk) + "?=")
    return words


def header_text(text, charset="utf-8", enc="B"):
    """An unstructured header value: plain when ASCII, otherwise an ASCII reply prefix
    ("Re: ", "AW: ") kept as is and the rest as folded encoded words."""
    if is_ascii(text):
        return fold_plain(text)
    m = re.match(r"^((?:(?:Re|RE|AW|Aw|WG|Fwd|FW|RV|TR):\s*)+)", text)
    lead = ""
    if m:
        lead, text = m.group(1), text[m.end():]
    return lead + "\r\n ".join(encoded_words(text, charset, enc))


def fold_plain(text, width=76):
    """Folds a long ASCII header value at spaces (the continuation keeps the space)."""
    if len(text) <= width:
        return text
    parts, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            parts.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    parts.append(line)
    return "\r\n ".join(parts)


def addr(name, email, charset="utf-8", enc="B"):
    if not name:
        return email
    if is_ascii(name):
        if re.search(r"[(),.:;<>@\[\]\"]", name):
            return '"' + name.replace('"', '\\"') + f'" <{email}>'
        return f"{name} <{email}>"
    return " ".join(encoded_words(name, charset, enc)) + f" <{email}>"


def addr_list(items):
    out = []
    for it in items:
        if isinstance(it, str):
            out.append(it)
        else:
            out.append(addr(*it))
    return ",\r\n ".join(out)


class Part:
    def __init__(self, headers, body):
        self.headers = headers  # list of "Name: value" strings (already folded)
        self.body = body  # bytes, CRLF line endings

    def render(self):
        return ("\r\n".join(self.headers) + "\r\n\r\n").encode("ascii") + self.body


def crlf(b):
    return b.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def b64_lines(raw):
    enc = base64.b64encode(raw).decode("ascii")
    lines = [enc[i:i + 76] for i in range(0, len(enc), 76)]
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def encode_text(text, charset):
    """Encodes line by line so stateful charsets (ISO-2022-JP) return to ASCII per line."""
    return b"\n".join(line.encode(charset) for line in text.split("\n"))


def text(body, subtype="plain", charset="utf-8", cte="quoted-printable", flowed=False):
    body = body.strip("\n") + "\n"
    raw = encode_text(body, charset)
    if cte == "base64":
        payload = b64_lines(raw)
    elif cte == "quoted-printable":
        payload = crlf(quopri.encodestring(raw))
    else:  # 7bit / 8bit
        payload = crlf(raw)
    ct = f'Content-Type: text/{subtype}; charset="{charset}"'
    if flowed:
        ct += "; format=flowed"
    return Part([ct, f"Content-Transfer-Encoding: {cte}"], payload)


def html(body, charset="utf-8", cte="quoted-printable"):
    return text(body, "html", charset, cte)


def attachment(filename, data, ctype, inline=False, cid=None):
    if is_ascii(filename):
        ct = f'Content-Type: {ctype}; name="{filename}"'
        cd = f'Content-Disposition: {"inline" if inline else "attachment"}; filename="{filename}"'
    else:
        # What common clients send: RFC 2047 in name= for old readers, RFC 2231 in filename*.
        ew = " ".join(encoded_words(filename))
        ct = f'Content-Type: {ctype};\r\n name="{ew}"'
        pct = "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else
                      "".join(f"%{b:02X}" for b in c.encode("utf-8")) for c in filename)
        cd = (f'Content-Disposition: {"inline" if inline else "attachment"};\r\n'
              f" filename*=UTF-8''{pct}")
    headers = [ct, cd, "Content-Transfer-Encoding: base64"]
    if cid:
        headers.append(f"Content-ID: <{cid}>")
    return Part(headers, b64_lines(data))


_counter = [0]


def multipart(subtype, *parts, boundary=None):
    _counter[0] += 1
    b = boundary or f"----=_Part_{_counter[0]:04d}_{zlib.crc32(repr(subtype).encode()) ^ _counter[0] * 7919:08x}"
    body = b""
    for p in parts:
        body += f"--{b}\r\n".encode("ascii") + p.render() + b"\r\n"
    body += f"--{b}--\r\n".encode("ascii")
    return Part([f'Content-Type: multipart/{subtype};\r\n boundary="{b}"'], body)


def alternative(plain, rich):
    return multipart("alternative", plain, rich)


# ---------------------------------------------------------------------------
# Small but real attachment files
# ---------------------------------------------------------------------------

def make_pdf(lines, pad=0):
    """A minimal, well-formed one-page PDF (correct xref offsets). `pad` adds an
    uncompressed stream of that many bytes (for size tests)."""
    content = "BT /F1 11 Tf 50 790 Td 14 TL\n"
    for ln in lines:
        safe = ln.encode("latin-1", "replace").decode("latin-1")
        safe = safe.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        content += f"({safe}) '\n"
    content += "ET\n"
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(content)} >>\nstream\n{content}endstream".encode("latin-1"),
    ]
    if pad:
        blob = (b"\x00\x11\x22\x33" * (pad // 4 + 1))[:pad]
        objs.append(f"<< /Length {pad} >>\nstream\n".encode() + blob + b"\nendstream")
    out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + o + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def make_png(w=1, h=1, rgb=(200, 30, 30)):
    raw = b"".join(b"\x00" + bytes(rgb) * w for _ in range(h))

    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def make_jpeg_stub():
    # JFIF SOI + APP0 header + EOI: enough for a type sniffer, tiny on disk.
    return (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x48\x00\x48\x00\x00"
            b"\xff\xdb\x00\x43\x00" + bytes(range(64)) + b"\xff\xd9")


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files:
            zi = zipfile.ZipInfo(name, date_time=(2024, 5, 10, 9, 30, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(zi, data)
    return buf.getvalue()


def make_docx(paragraphs):
    body = "".join(f"<w:p><w:r><w:t>{p}</w:t></w:r></w:p>" for p in paragraphs)
    return make_zip([
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'),
        ("_rels/.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'),
        ("word/document.xml",
         '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
         f"<w:body>{body}</w:body></w:document>"),
    ])


def make_xlsx(rows, macro=False):
    def cell(v):
        if isinstance(v, (int, float)):
            return f"<c><v>{v}</v></c>"
        return f'<c t="inlineStr"><is><t>{v}</t></is></c>'

    sheet = "".join(f"<row>{''.join(cell(v) for v in r)}</row>" for r in rows)
    main = ("application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro else
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml")
    files = [
        ("[Content_Types].xml",
         '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
         '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
         '<Default Extension="xml" ContentType="application/xml"/>'
         + ('<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>' if macro else "")
         + f'<Override PartName="/xl/workbook.xml" ContentType="{main}"/>'
         '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'),
        ("_rels/.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        ("xl/workbook.xml",
         '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
         'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Price list" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        ("xl/_rels/workbook.xml.rels",
         '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
         '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'),
        ("xl/worksheets/sheet1.xml",
         '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
         f"<sheetData>{sheet}</sheetData></worksheet>"),
    ]
    if macro:
        files.append(("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504))
    return make_zip(files)


def make_exe(note):
    """A harmless DOS stub that only looks like a PE file to a type sniffer."""
    stub = bytearray(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00")
    stub += b"\xb8" + b"\x00" * 7 + b"\x40" + b"\x00" * 35 + struct.pack("<I", 0x80)
    stub += b"\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21"
    stub += b"This program cannot be run in DOS mode.\r\r\n$"
    stub = stub.ljust(0x80, b"\x00") + b"PE\x00\x00\x4c\x01\x00\x00" + note.encode("ascii")
    return bytes(stub)


# ---------------------------------------------------------------------------
# Message assembly
# ---------------------------------------------------------------------------

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def rfc_date(y, mo, d, hh, mm, ss=0, tz="+0800"):
    import datetime
    wd = DAYS[datetime.date(y, mo, d).weekday()]
    return f"{wd}, {d} {MONTHS[mo - 1]} {y} {hh:02d}:{mm:02d}:{ss:02d} {tz}"


MESSAGES = []


def message(num, slug, *, frm, to, subject, date, body, meta, cc=(), msgid=None,
            in_reply_to=None, references=None, extra=(), subject_charset="utf-8",
            subject_enc="B", reply_to=None, mailer="Foxmail 7.2.25.375", no_subject=False):
    """Renders one message and records it with its expected outcome."""
    dom = (frm[1] if isinstance(frm, tuple) else frm).split("@")[1]
    msgid = msgid or f"<{date.split(',')[1].split()[2]}{num:04d}.{slug.replace('-', '')[:12]}@{dom}>"
    hs = [f"Date: {date}", f"From: {addr_list([frm])}"]
    if to:
        hs.append(f"To: {addr_list(to)}")
    if cc:
        hs.append(f"Cc: {addr_list(cc)}")
    if reply_to:
        hs.append(f"Reply-To: {addr_list([reply_to])}")
    if not no_subject:
        hs.append(f"Subject: {header_text(subject, subject_charset, subject_enc)}" if subject
                  else "Subject: ")
    hs.append(f"Message-ID: {msgid}")
    if in_reply_to:
        hs.append(f"In-Reply-To: {in_reply_to}")
        refs = references or in_reply_to
        hs.append(f"References: {fold_plain(refs)}")
    for h in extra:
        hs.append(h)
    if mailer:
        hs.append(f"X-Mailer: {mailer}")
    hs.append("MIME-Version: 1.0")
    raw = ("\r\n".join(hs) + "\r\n").encode("ascii") + body.render()
    MESSAGES.append(dict(num=num, slug=slug, raw=raw, meta=meta, subject=subject,
                         frm=frm, to=to, cc=cc, reply=bool(in_reply_to), extra=extra))


def M(description, verdict, hits=(), not_hits=(), rcpt=None, rcpt_verdicts=None,
      body_spam=1):
    meta = {"description": description}
    if rcpt:
        meta["rcpt"] = rcpt
    meta["verdict"] = verdict
    meta["hits"] = list(hits)
    meta["not_hits"] = list(not_hits)
    if rcpt_verdicts:
        meta["rcpt_verdicts"] = rcpt_verdicts
    meta["_body_spam"] = body_spam
    return meta


# Signatures -----------------------------------------------------------------

def sig_haina(name, title, phone="+86 755 2698 4410"):
    return f"""
Best regards,
{name}
{title}
Shenzhen Haina Electronics Co., Ltd.
深圳市海纳电子科技有限公司
Tel / WhatsApp: {phone}
https://www.example.com"""


def sig_lanbo(name, title="Export Sales"):
    return f"""
Kind regards,
{name} | {title}
Ningbo Lanbo Kitchenware Co., Ltd. (宁波蓝波厨具有限公司)
No. 88 Jiangnan Road, Beilun, Ningbo 315800, China
Tel: +86 574 8612 3370"""


def sig_hengda(name, title="Sales"):
    return f"""
Best wishes,
{name} ({title})
Yiwu Hengda Import & Export Co., Ltd.
义乌市恒达进出口有限公司
Mobile/WeChat: +86 139 5791 2086"""


def sig_jinlu(name, title="Overseas Sales Manager"):
    return f"""
Regards,
{name}
{title}
Xiamen Jinlu Outdoor Products Co., Ltd. | 厦门金鹭户外用品有限公司
www.example.com.cn"""


HAINA = ("Lily Zhang", "lily.zhang@example.com")
HAINA_KW = ("Kevin Wu", "kevin.wu@example.com")
HAINA_GC = ("Grace Chen", "grace.chen@example.com")
LANBO = ("Amy Xu", "amy.xu@example.org")
LANBO_JL = ("Jason Lin", "jason.lin@example.org")
HENGDA = ("Cindy Wang", "cindy@example.net")
HENGDA_LH = ("Leo Huang", "leo.huang@example.net")
JINLU = ("Ryan Zheng", "ryan.zheng@example.com.cn")
JINLU_VL = ("Vivian Lin", "vivian.lin@example.com.cn")


def mid(tag, dom):
    return f"<{tag}@{dom}>"


# ===========================================================================
# The messages
# ===========================================================================

# 001 -- German quote on a reply, PDF attached, Chinese company name only in the signature.
message(1, "quote-powerbank-de-reply",
    frm=HAINA, to=[("Thomas Hoffmann", "t.hoffmann@example.de")],
    subject="AW: Anfrage Powerbank 10000 mAh – Angebot für 500 Stück",
    date=rfc_date(2024, 5, 14, 15, 42, 10),
    in_reply_to=mid("8f31c2a0-4b1e-4d0e-9a55-hoffmann", "example.de"),
    body=multipart("mixed",
        text("""Sehr geehrter Herr Hoffmann,

vielen Dank für Ihre Anfrage vom 13. Mai und Ihr Interesse an unserer Powerbank HN-PB10 (10000 mAh, USB-C PD 20 W).

Anbei finden Sie unser Angebot Nr. Q-2405-117 für 500 Stück:
- Stückpreis: 8,40 USD FOB Shenzhen
- Logo-Druck (1 Farbe): ohne Aufpreis ab 500 Stück
- Lieferzeit: 18–20 Arbeitstage nach Anzahlung
- Zertifikate: CE, RoHS, UN38.3 (liegen dem Angebot bei)

Gerne senden wir Ihnen vorab zwei Muster per DHL Express zu. Bitte teilen Sie mir mit, ob Sie die Farbe Schwarz oder Weiß bevorzugen.

Mit freundlichen Grüßen
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd.
深圳市海纳电子科技有限公司
Tel / WhatsApp: +86 755 2698 4410"""),
        attachment("Angebot_Q-2405-117_HN-PB10.pdf", make_pdf([
            "Shenzhen Haina Electronics Co., Ltd. - Quotation Q-2405-117",
            "To: Elektro Hoffmann GmbH, Attn. Mr. Thomas Hoffmann",
            "Item: HN-PB10 Power bank 10000 mAh, USB-C PD 20W",
            "Qty 500 pcs  Unit price USD 8.40 FOB Shenzhen  Total USD 4,200.00",
            "Payment: 30% T/T deposit, 70% before shipment. Valid 30 days."]), "application/pdf")),
    meta=M("German quote answering the buyer's inquiry (AW: + In-Reply-To) with a PDF quotation; formal 'Sehr geehrter Herr'; the only Chinese is the company name in the signature",
           "accept", [], ["ATTACH_ON_COLD", "ETIQUETTE_DE_FORMAL", "WRONG_LANGUAGE", "BODY_ATTACHMENT_ONLY", "SUBJECT_EXCLAMATION"]))

# 002 -- Proforma invoice, [Order #1234] in the subject.
message(2, "proforma-invoice-order-1234",
    frm=HAINA_GC, to=[("Michael Brown", "mbrown@example.us")],
    subject="Re: [Order #1234] Proforma invoice for 600 pcs GaN 65W chargers",
    date=rfc_date(2024, 6, 3, 10, 5, 44),
    in_reply_to=mid("CAF9x2-order1234-brown", "example.us"),
    references=mid("CAF9x1-order1234-brown", "example.us") + " " + mid("CAF9x2-order1234-brown", "example.us"),
    body=multipart("mixed",
        alternative(
            text("""Hi Michael,

Thank you for confirming the order. Please find attached proforma invoice PI-20240603-02 for order #1234:

  600 pcs HN-GaN65 USB-C charger, 2C1A, US plug, white
  Unit price USD 11.20, total USD 6,720.00 (FOB Shenzhen)

Payment terms are as agreed: 30% deposit (USD 2,016.00) to start production, the balance of USD 4,704.00 before shipment. Our bank details are on page 1 of the PI.

Production takes about 15 working days after we receive the deposit. I will send you photos of the packed cartons before shipment.
""" + sig_haina("Grace Chen", "Account Manager")),
            html("""<html><body style="font-family:Arial,sans-serif;font-size:14px">
<p>Hi Michael,</p>
<p>Thank you for confirming the order. Please find attached proforma invoice <b>PI-20240603-02</b> for order #1234:</p>
<table border="1" cellpadding="4" style="border-collapse:collapse">
<tr><th>Item</th><th>Qty</th><th>Unit price</th><th>Amount</th></tr>
<tr><td>HN-GaN65 USB-C charger, 2C1A, US plug, white</td><td>600</td><td>USD 11.20</td><td>USD 6,720.00</td></tr>
</table>
<p>Payment terms are as agreed: 30% deposit (USD 2,016.00) to start production, the balance of USD 4,704.00 before shipment. Our bank details are on page 1 of the PI.</p>
<p>Production takes about 15 working days after we receive the deposit. I will send you photos of the packed cartons before shipment.</p>
<p>Best regards,<br>Grace Chen<br>Account Manager<br>Shenzhen Haina Electronics Co., Ltd.<br>深圳市海纳电子科技有限公司<br>
<a href="https://www.example.com">www.example.com</a></p>
</body></html>""")),
        attachment("PI-20240603-02.pdf", make_pdf([
            "PROFORMA INVOICE PI-20240603-02", "Buyer: Brown Electronics Supply LLC (order #1234)",
            "600 pcs HN-GaN65 charger x USD 11.20 = USD 6,720.00 FOB Shenzhen",
            "Deposit 30%: USD 2,016.00   Balance: USD 4,704.00",
            "Beneficiary: Shenzhen Haina Electronics Co., Ltd."]), "application/pdf")),
    meta=M("Proforma invoice PDF on a reply; '[Order #1234]' is an order reference, not an unfilled merge field, and the brackets are not decoration",
           "accept", [], ["TEMPLATE_PLACEHOLDER", "SUBJECT_SYMBOLS", "ATTACH_ON_COLD", "LINK_MISMATCH"]))

# 003 -- Cold shipping notice to a UK buyer; link text is words, not a URL.
message(3, "shipping-notice-uk",
    frm=HAINA_KW, to=[("Emma Clarke", "emma.clarke@example.co.uk")],
    subject="Your order HN-24-0871 has shipped (UPS 1Z 999 AA1 01 2345 6784)",
    date=rfc_date(2024, 7, 9, 16, 20, 3),
    body=alternative(
        text("""Dear Ms Clarke,

Good news: your order HN-24-0871 (200 pcs LED strip light kits, 5 m, RGB) left our warehouse today.

Carrier: UPS Worldwide Saver
Tracking number: 1Z 999 AA1 01 2345 6784
Estimated delivery: 15-17 July 2024

The commercial invoice and packing list are in the pouch on carton 1 of 4. UK import VAT will be collected by UPS on delivery, as we discussed when you placed the order.

You can follow the parcel here: https://www.example.co.uk/track?n=1Z999AA10123456784
""" + sig_haina("Kevin Wu", "Logistics & After-sales")),
        html("""<html><body style="font-family:Verdana,sans-serif">
<p>Dear Ms Clarke,</p>
<p>Good news: your order <b>HN-24-0871</b> (200 pcs LED strip light kits, 5&nbsp;m, RGB) left our warehouse today.</p>
<ul><li>Carrier: UPS Worldwide Saver</li><li>Tracking number: 1Z 999 AA1 01 2345 6784</li><li>Estimated delivery: 15&ndash;17 July 2024</li></ul>
<p>The commercial invoice and packing list are in the pouch on carton 1 of 4. UK import VAT will be collected by UPS on delivery, as we discussed when you placed the order.</p>
<p><a href="https://www.example.co.uk/track?n=1Z999AA10123456784">Track your parcel</a></p>
<p>Best regards,<br>Kevin Wu<br>Logistics &amp; After-sales<br>Shenzhen Haina Electronics Co., Ltd.<br>深圳市海纳电子科技有限公司</p>
</body></html>""")),
    meta=M("Cold shipping notice with tracking number; the HTML link text 'Track your parcel' is not a URL, so there is nothing to mismatch; text and HTML alternatives",
           "accept", [], ["LINK_MISMATCH", "HTML_ONLY", "ATTACH_ON_COLD", "GENERIC_GREETING"]))

# 004 -- Japanese shipping notice in ISO-2022-JP, 田中様.
message(4, "shipping-notice-jp-iso2022",
    frm=("海纳电子 張 麗 (Lily Zhang)", "lily.zhang@example.com"),
    to=[("田中 健一", "tanaka@example.co.jp")],
    subject="ご注文品発送のお知らせ（注文番号 SK-2407-033）",
    subject_charset="iso-2022-jp",
    date=rfc_date(2024, 7, 22, 11, 3, 51),
    body=text("""株式会社サクラ商事
田中様

いつも大変お世話になっております。
ハイナ電子の張でございます。

ご注文いただきましたモバイルバッテリー HN-PB10（300個）を
本日発送いたしましたので、お知らせいたします。

・配送業者：ヤマト運輸（国際宅急便）
・お問い合わせ番号：4012-3456-7890
・お届け予定日：7月26日（金）

到着まで今しばらくお待ちくださいませ。
何かご不明な点がございましたら、お気軽にお問い合わせください。

今後ともどうぞよろしくお願い申し上げます。

--
張 麗（ちょう れい）
Shenzhen Haina Electronics Co., Ltd.
TEL: +86 755 2698 4410""", charset="iso-2022-jp", cte="7bit"),
    meta=M("Japanese shipping notice in ISO-2022-JP (7bit body, RFC 2047 ISO-2022-JP subject) greeting 田中様; Japanese text to a .co.jp buyer is the right language",
           "accept", [], ["ETIQUETTE_JP_HONORIFIC", "WRONG_LANGUAGE", "SUBJECT_MISSING", "MOJIBAKE", "SUBJECT_SYMBOLS"]))

# 005 -- German delay notice, "!" only in the greeting of the body.
message(5, "delay-notice-de-latin1",
    frm=LANBO, to=[("Sabine Schmidt", "s.schmidt@example.de")],
    subject="Lieferverzögerung Bestellung LB-24-0412, neuer Liefertermin",
    subject_charset="iso-8859-1", subject_enc="Q",
    date=rfc_date(2024, 4, 18, 9, 15, 0),
    mailer="Microsoft Outlook 16.0",
    body=text("""Guten Tag Frau Schmidt!

leider müssen wir Ihnen mitteilen, dass sich die Lieferung Ihrer Bestellung LB-24-0412 (400 Edelstahl-Töpfe, Serie "Gourmet 5-tlg.") um etwa eine Woche verzögert.

Grund ist eine Überlastung im Hafen Ningbo: Das Schiff MSC ANNA wurde vom 20. auf den 27. April umgebucht. Die Ware ist fertig verpackt und steht im Containerlager.

Neuer voraussichtlicher Ankunftstermin in Hamburg: 4. Juni 2024.

Als kleine Entschädigung gewähren wir Ihnen 3 % Rabatt auf Ihre nächste Bestellung. Wir bitten um Ihr Verständnis und informieren Sie sofort, sobald das Schiff ausgelaufen ist.

Mit freundlichen Grüßen
Amy Xu | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd.
No. 88 Jiangnan Road, Beilun, Ningbo 315800, China
Tel: +86 574 8612 3370""", charset="iso-8859-1", cte="quoted-printable"),
    meta=M("German delay notice in ISO-8859-1 quoted-printable; the single '!' is in the body greeting 'Guten Tag Frau Schmidt!', never in the subject; formal address; umlauts decode cleanly",
           "accept", [], ["SUBJECT_EXCLAMATION", "ETIQUETTE_DE_FORMAL", "MOJIBAKE", "WALL_OF_TEXT"]))

# 006 -- French customs note, Latin-1, guillemets.
message(6, "customs-note-fr-latin1",
    frm=JINLU_VL, to=[("Julien Moreau", "j.moreau@example.fr")],
    subject="Re: Dédouanement commande JL-2405-19 : documents à préparer",
    subject_charset="iso-8859-1", subject_enc="Q",
    date=rfc_date(2024, 5, 27, 14, 33, 20),
    in_reply_to=mid("a7c8e1f0.moreau.2405", "example.fr"),
    body=text("""Bonjour Monsieur Moreau,

Merci pour votre message. Votre commande JL-2405-19 (120 tentes « Trekker 3P » et 300 chaises pliantes) arrivera au port du Havre vers le 12 juin.

Pour le dédouanement, votre transitaire aura besoin des documents suivants, que nous lui enverrons dès le départ du navire :
- facture commerciale et liste de colisage ;
- connaissement (B/L) n° COSU6382715460 ;
- certificat d'origine Form A pour bénéficier du tarif préférentiel.

Le code SH que nous utilisons est 6306.22 (tentes en fibres synthétiques). Si votre transitaire préfère un autre code, merci de nous le dire avant l'émission de la facture.

Bien cordialement,
Vivian Lin
Xiamen Jinlu Outdoor Products Co., Ltd.
www.example.com.cn""", charset="iso-8859-1", cte="quoted-printable"),
    meta=M("French customs-document note on a reply, ISO-8859-1 QP body and RFC 2047 Q subject: accents decode correctly (no mojibake); « guillemets » are French quotation marks, not a <<Name>> merge field",
           "accept", [], ["MOJIBAKE", "TEMPLATE_PLACEHOLDER", "WRONG_LANGUAGE"]))

# 007 -- Spanish complaint answer, UTF-8 base64.
message(7, "complaint-answer-es",
    frm=HENGDA, to=[("Carmen López", "c.lopez@example.es")],
    subject="RE: Reclamación pedido HD-5530 – fundas de móvil dañadas",
    date=rfc_date(2024, 3, 6, 10, 48, 2),
    in_reply_to=mid("DB8P190MB0712.lopez", "example.es"),
    mailer="Microsoft Outlook 16.0",
    body=text("""Estimada Sra. López:

Lamentamos mucho que 35 de las 500 fundas de silicona para iPhone 15 del pedido HD-5530 llegaran con marcas de presión. Gracias por enviarnos las fotos; nos han ayudado a ver que el problema fue el embalaje interior, no el producto.

Le proponemos dos opciones, la que usted prefiera:
1. Reenviar 35 fundas nuevas por correo aéreo esta semana, sin coste para usted.
2. Descontar 87,50 EUR (35 × 2,50 EUR) de su próxima factura.

Además, a partir de ahora cada funda irá en una caja individual de cartón.

Quedamos a la espera de su respuesta.

Atentamente,
Cindy Wang
Yiwu Hengda Import & Export Co., Ltd.
Mobile/WeChat: +86 139 5791 2086""", cte="base64"),
    meta=M("Spanish answer to a complaint on a reply (UTF-8 base64), addressed by name 'Estimada Sra. López', offering a re-shipment or a discount",
           "accept", [], ["GENERIC_GREETING", "SUBJECT_ALL_CAPS", "MOJIBAKE"]))

# 008 -- Refund offer with "feel free".
message(8, "refund-offer-au",
    frm=LANBO_JL, to=[("Jack Thompson", "jack@example.com.au")],
    subject="Re: Silicone baking mats - colour not as ordered",
    date=rfc_date(2024, 8, 12, 8, 57, 31),
    in_reply_to=mid("SY4P282MB1133.jack", "example.com.au"),
    body=alternative(
        text("""Hi Jack,

You are right, and I am sorry: we packed the grey mats instead of the sage green ones you ordered (order LB-24-0733, 150 sets).

We have refunded AUD 412.50 to your PayPal account today; the transaction ID is 7KJ24561AB3390218. You do not need to send the grey mats back. If you can sell them, please keep them.

The green mats for your next order are already reserved for you. Please feel free to call me on WhatsApp if anything else is unclear.

Kind regards,
Jason Lin | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd. (宁波蓝波厨具有限公司)"""),
        html("""<div dir="ltr"><p>Hi Jack,</p>
<p>You are right, and I am sorry: we packed the grey mats instead of the sage green ones you ordered (order LB-24-0733, 150 sets).</p>
<p>We have refunded <b>AUD 412.50</b> to your PayPal account today; the transaction ID is 7KJ24561AB3390218. You do not need to send the grey mats back. If you can sell them, please keep them.</p>
<p>The green mats for your next order are already reserved for you. Please feel free to call me on WhatsApp if anything else is unclear.</p>
<p>Kind regards,<br>Jason Lin | Export Sales<br>Ningbo Lanbo Kitchenware Co., Ltd. (宁波蓝波厨具有限公司)</p></div>""")),
    meta=M("Refund offer on a reply; 'please feel free to call me' is ordinary courtesy, not the spam phrase 'free'",
           "accept", [], ["BODY_SPAM_PHRASE", "SUBJECT_SPAM_PHRASE", "WRONG_LANGUAGE"]))

# 009 -- Payment reminder to the UAE, no red.
message(9, "payment-reminder-ae-polite",
    frm=HAINA, to=[("Omar Haddad", "omar@example.ae")],
    subject="Friendly reminder: balance for order HN-24-0655 (USD 3,150.00)",
    date=rfc_date(2024, 9, 2, 11, 30, 0),
    body=alternative(
        text("""Dear Mr. Haddad,

I hope this week has started well for you.

This is a gentle reminder that the balance for order HN-24-0655 (1,500 Bluetooth speakers, model HN-BS07) is due on 5 September:

  Balance due: USD 3,150.00
  Invoice: CI-24-0655

The goods are packed and the container is booked for 9 September from Shenzhen to Jebel Ali. As soon as we receive the payment we will send you the B/L copy.

If the payment has already been made, please ignore this message, and thank you.
""" + sig_haina("Lily Zhang", "Sales Manager")),
        html("""<html><body style="font-family:Arial;color:#222">
<p>Dear Mr. Haddad,</p>
<p>I hope this week has started well for you.</p>
<p>This is a gentle reminder that the balance for order HN-24-0655 (1,500 Bluetooth speakers, model HN-BS07) is due on 5 September:</p>
<p style="color:#1a3d7c"><b>Balance due: USD 3,150.00</b><br>Invoice: CI-24-0655</p>
<p>The goods are packed and the container is booked for 9 September from Shenzhen to Jebel Ali. As soon as we receive the payment we will send you the B/L copy.</p>
<p>If the payment has already been made, please ignore this message, and thank you.</p>
<p>Best regards,<br>Lily Zhang<br>Sales Manager<br>Shenzhen Haina Electronics Co., Ltd.</p>
</body></html>""")),
    meta=M("Payment reminder to a buyer in the UAE, amount in dark blue bold rather than red: the courtesy rule about red payment styling must not fire",
           "accept", [], ["ETIQUETTE_RED_PAYMENT", "HTML_ONLY", "SUBJECT_EXCLAMATION"]))

# 010 -- Payment reminder to Germany, amount in red.
message(10, "payment-reminder-de-red",
    frm=LANBO, to=[("Petra Becker", "einkauf@example.de")],
    subject="Zahlungserinnerung Rechnung LB-INV-2406-88",
    date=rfc_date(2024, 7, 1, 9, 40, 0),
    body=alternative(
        text("""Sehr geehrte Frau Becker,

wir möchten Sie freundlich daran erinnern, dass die Rechnung LB-INV-2406-88 über 2.860,00 EUR am 28. Juni fällig war.

Offener Betrag: 2.860,00 EUR
Bank: Bank of China, Ningbo Branch, IBAN/Konto siehe Rechnung

Falls Sie die Zahlung bereits veranlasst haben, betrachten Sie diese E-Mail bitte als gegenstandslos.

Mit freundlichen Grüßen
Amy Xu | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd."""),
        html("""<html><body style="font-family:Calibri,Arial">
<p>Sehr geehrte Frau Becker,</p>
<p>wir möchten Sie freundlich daran erinnern, dass die Rechnung LB-INV-2406-88 über 2.860,00&nbsp;EUR am 28.&nbsp;Juni fällig war.</p>
<p><span style="color:#FF0000;font-weight:bold">Offener Betrag: 2.860,00 EUR</span><br>Bank: Bank of China, Ningbo Branch, IBAN/Konto siehe Rechnung</p>
<p>Falls Sie die Zahlung bereits veranlasst haben, betrachten Sie diese E-Mail bitte als gegenstandslos.</p>
<p>Mit freundlichen Grüßen<br>Amy Xu | Export Sales<br>Ningbo Lanbo Kitchenware Co., Ltd.</p>
</body></html>""")),
    meta=M("German payment reminder with the open amount in red: red is only a courtesy issue for Middle-East recipients, not for .de; formal 'Sehr geehrte Frau Becker'",
           "accept", [], ["ETIQUETTE_RED_PAYMENT", "ETIQUETTE_DE_FORMAL"]))

# 011 -- Cold follow-up to Noreen (not a no-reply address).
message(11, "followup-quote-ie",
    frm=JINLU, to=[("Noreen Reilly", "noreen.reilly@example.ie")],
    subject="Following up on the hammock quote for Reilly Outdoor",
    date=rfc_date(2024, 10, 8, 16, 5, 0),
    body=text("""Dear Noreen,

Last Tuesday I sent you our quotation for the double parachute hammocks (model JL-HM02, 300 pcs). I know October is busy, so here is the short version:

- EUR 9.80 per piece DDP Dublin, including straps and carabiners
- 4 colours available from stock, delivery in about 25 days

If the timing is not right this season, just let me know and I will come back to you in January instead.
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Polite cold follow-up a week after a quote, short, no attachment; the address noreen.reilly@ begins with 'nore' but is not a no-reply mailbox",
           "accept", [], ["RCPT_NO_REPLY", "ATTACH_ON_COLD", "WALL_OF_TEXT", "READ_RECEIPT_COLD"]))

# 012 -- Review request with one link.
message(12, "review-request-us",
    frm=HENGDA_LH, to=[("Rachel Green", "rachel.green@example.us")],
    subject="How are the yoga mats working out for your studio?",
    date=rfc_date(2024, 11, 19, 22, 10, 0),
    body=alternative(
        text("""Hi Rachel,

Your 40 TPE yoga mats (6 mm, lavender) were delivered to your studio in Austin last Thursday. I hope your members like them.

If you have two minutes, a short review on our store page would help other studio owners a lot:
https://www.example.net/reviews/new?order=HD-6120

And if anything is not right with the mats, please reply to this email first so we can fix it for you.

Thank you for your order,
Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
        html("""<p>Hi Rachel,</p>
<p>Your 40 TPE yoga mats (6&nbsp;mm, lavender) were delivered to your studio in Austin last Thursday. I hope your members like them.</p>
<p>If you have two minutes, a <a href="https://www.example.net/reviews/new?order=HD-6120">short review on our store page</a> would help other studio owners a lot.</p>
<p>And if anything is not right with the mats, please reply to this email first so we can fix it for you.</p>
<p>Thank you for your order,<br>Leo Huang<br>Yiwu Hengda Import &amp; Export Co., Ltd.</p>""")),
    meta=M("Review request after delivery with a single link to the shop's own review page; asks to reply first if anything is wrong",
           "accept", [], ["LINK_HEAVY", "LINK_SHORTENER", "LINK_MISMATCH", "SUBJECT_SYMBOLS"]))

# 013 -- Newsletter done right: List-Unsubscribe, images with real text, 6 links.
NL13_HTML = """<html><body style="margin:0;background:#f4f4f4">
<table width="600" align="center" cellpadding="0" cellspacing="0" style="background:#fff;font-family:Arial,sans-serif">
<tr><td><img src="https://www.example.org/nl/2024-09/header.jpg" width="600" height="180" alt="Lanbo Kitchenware - autumn 2024"></td></tr>
<tr><td style="padding:20px">
<p>Dear Ms. Meyer,</p>
<p>Autumn is the busiest season for cookware shops, so we have prepared our new items early. All of them can ship from Ningbo within 20 days.</p>
<h3>New: Tri-ply stainless frying pans</h3>
<p><img src="https://www.example.org/nl/2024-09/pan.jpg" width="260" height="200" alt="Tri-ply frying pan" align="right">Induction-ready, 20/24/28 cm, riveted handles. Wholesale from USD 7.90. <a href="https://www.example.org/products/triply-pan">Details and price tiers</a></p>
<h3>Bamboo cutting board sets</h3>
<p>FSC bamboo, three sizes with juice groove, custom laser logo from 300 sets. <a href="https://www.example.org/products/bamboo-board-set">See the set</a></p>
<h3>Silicone baking mats in four new colours</h3>
<p>Food-grade, LFGB tested, 42 x 29.5 cm. <a href="https://www.example.org/products/baking-mat">Colours and test report</a></p>
<p>You can download the complete autumn catalogue <a href="https://www.example.org/catalogue/2024-autumn">on our website</a> or simply reply to this email for samples.</p>
<p>Kind regards,<br>Amy Xu, Ningbo Lanbo Kitchenware Co., Ltd.</p>
<p style="font-size:11px;color:#888">You receive this because you bought from us in 2023. <a href="https://www.example.org/unsubscribe?u=9f2c1e">Unsubscribe</a> · <a href="https://www.example.org/privacy">Privacy</a></p>
</td></tr></table></body></html>"""
message(13, "newsletter-with-unsubscribe",
    frm=("Lanbo Kitchenware", "news@example.org"), to=[("Katrin Meyer", "k.meyer@example.de")],
    subject="New for autumn: tri-ply pans, bamboo boards and baking mats",
    date=rfc_date(2024, 9, 10, 9, 0, 12),
    extra=["List-Unsubscribe: <https://www.example.org/unsubscribe?u=9f2c1e>, <mailto:unsubscribe@example.org?subject=unsubscribe-9f2c1e>",
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
           "Precedence: bulk",
           "List-Id: Lanbo customer news <news.example.org>"],
    mailer=None,
    body=alternative(
        text("""Dear Ms. Meyer,

Autumn is the busiest season for cookware shops, so we have prepared our new items early. All of them can ship from Ningbo within 20 days.

NEW: TRI-PLY STAINLESS FRYING PANS
Induction-ready, 20/24/28 cm, riveted handles. Wholesale from USD 7.90.
https://www.example.org/products/triply-pan

BAMBOO CUTTING BOARD SETS
FSC bamboo, three sizes with juice groove, custom laser logo from 300 sets.
https://www.example.org/products/bamboo-board-set

SILICONE BAKING MATS IN FOUR NEW COLOURS
Food-grade, LFGB tested, 42 x 29.5 cm.
https://www.example.org/products/baking-mat

Complete autumn catalogue: https://www.example.org/catalogue/2024-autumn
Or simply reply to this email for samples.

Kind regards,
Amy Xu, Ningbo Lanbo Kitchenware Co., Ltd.

You receive this because you bought from us in 2023.
Unsubscribe: https://www.example.org/unsubscribe?u=9f2c1e"""),
        html(NL13_HTML)),
    meta=M("Customer newsletter done right: Precedence: bulk with List-Unsubscribe + One-Click, personal greeting, images alongside plenty of text, 6 links",
           "accept", [], ["BULK_NO_UNSUBSCRIBE", "BODY_IMAGE_ONLY", "LINK_HEAVY", "HTML_ONLY", "ETIQUETTE_DE_FORMAL", "SUBJECT_SYMBOLS"]))

# 014 -- HTML-only reply.
message(14, "html-only-reply",
    frm=HAINA_KW, to=[("Daan de Vries", "daan@example.nl")],
    subject="Re: Replacement remote controls for LED panels",
    date=rfc_date(2024, 4, 2, 10, 12, 9),
    in_reply_to=mid("AM9PR07MB7201.daan", "example.nl"),
    mailer="WPS Mail",
    body=html("""<html><head><meta charset="utf-8"></head><body>
<div style="font-family:'Microsoft YaHei',Arial;font-size:14px">
<p>Dear Daan,</p>
<p>Thank you for the video, it shows the problem clearly: the 2.4G receiver lost its pairing. This happens when the remote is pressed during the first seconds after power-on.</p>
<p>We will send you 12 new remote controls with your next shipment (order HN-24-0512, leaving on 9 April). Until then, your customers can pair again like this: switch the panel off and on, then hold the ON button for 5 seconds within 3 seconds.</p>
<p>Best regards,<br>Kevin Wu<br>Shenzhen Haina Electronics Co., Ltd.</p>
</div></body></html>"""),
    meta=M("Helpful after-sales reply sent as HTML only (no text/plain alternative, as some Chinese webmail clients do): HTML_ONLY weight 1, accept",
           "accept", ["HTML_ONLY"], ["BODY_IMAGE_ONLY", "GENERIC_GREETING"]))

# 015 -- One "!" in the subject.
message(15, "subject-one-exclamation",
    frm=HENGDA, to=[("Sophie Martin", "sophie.martin@example.fr")],
    subject="Your order HD-6033 is on its way!",
    date=rfc_date(2024, 10, 15, 15, 0, 0),
    body=text("""Dear Sophie,

Your 600 hair claw clips (matte, 6 colours) left Yiwu this morning by air freight. The tracking number is 7731 2290 5561 (FedEx International Priority) and the goods should reach Lyon by 21 October.

Thank you again for your trust.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Shipping notice whose subject ends with one '!': SUBJECT_EXCLAMATION 1.5, below hold (accept)",
           "accept", ["SUBJECT_EXCLAMATION"], ["SUBJECT_EMOJI", "SUBJECT_ALL_CAPS"]))

# 016 -- Emoji in subject.
message(16, "subject-emoji-truck",
    frm=HAINA_GC, to=[("Liam Walsh", "liam@example.ca")],
    subject="Your LED panels are on the road 🚚 order HN-24-0990",
    date=rfc_date(2024, 11, 4, 21, 30, 0),
    body=text("""Dear Liam,

The 80 LED panels (600x600 mm, 40 W, 4000 K) of order HN-24-0990 were picked up by DHL today. Tracking number: 4512 8893 20. Estimated delivery to Toronto: 8 November.

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Shipping notice with a truck emoji in the subject: SUBJECT_EMOJI 2, accept",
           "accept", ["SUBJECT_EMOJI"], ["SUBJECT_EXCLAMATION", "SUBJECT_SYMBOLS"]))

# 017 -- {{first_name}} not filled in.
message(17, "placeholder-first-name",
    frm=JINLU, to=[("Ben Fischer", "ben.fischer@example.com.au")],
    subject="Camping season stock for your store",
    date=rfc_date(2024, 8, 20, 10, 0, 0),
    body=text("""Hi {{first_name}},

Spring is coming in Australia, and camping gear sells early. We make folding camp chairs, 2-4 person tents and hammocks for outdoor shops like yours, and ship to Sydney and Melbourne in about 3 weeks.

Would a price list for 100-500 pieces be useful for you?
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Cold outreach from a mail-merge tool that left '{{first_name}}' unfilled: TEMPLATE_PLACEHOLDER is a fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["GENERIC_GREETING", "ATTACH_ON_COLD"]))

# 018 -- Executable attachment.
message(18, "firmware-exe-attachment",
    frm=HAINA_KW, to=[("Marco Rossi", "m.rossi@example.it")],
    subject="Re: Bluetooth speaker HN-BS07 does not pair with iPhone",
    date=rfc_date(2024, 6, 18, 14, 2, 0),
    in_reply_to=mid("CAJ7-rossi-bs07", "example.it"),
    body=multipart("mixed",
        text("""Dear Mr. Rossi,

Thank you for the details. The pairing problem with iOS 17.5 is fixed in firmware 2.3.1. Please connect the speaker to a Windows PC with the USB-C cable and run the attached updater; it takes about two minutes.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
        attachment("HN-BS07_FW_Updater_v2.3.1.exe", make_exe("HN-BS07 firmware updater (corpus stub)"), "application/x-msdownload")),
    meta=M("A helpful reply, but it carries a Windows .exe (firmware updater): ATTACH_EXECUTABLE always refuses; the fix is a download link on the company site",
           "reject", ["ATTACH_EXECUTABLE"], ["ATTACH_ON_COLD", "ATTACH_ARCHIVE"]))

# 019 -- Shouty promotion subject (hold by weights).
message(19, "shouty-promo-subject",
    frm=("Haina Electronics", "news@example.com"), to=[("Olivia Harris", "olivia@example.co.uk")],
    subject="🔥 HUGE SALE!!! 40% OFF ALL LED STRIPS – LIMITED TIME",
    date=rfc_date(2024, 11, 25, 9, 5, 0),
    extra=["List-Unsubscribe: <https://www.example.com/u/olivia-77a1>",
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
           "Precedence: bulk"],
    mailer=None,
    body=text("""Dear Olivia,

For Black Friday week we are taking 40% off our RGB and COB LED strip kits for orders placed until 2 December. Prices start at USD 2.10 per 5 m kit for 200 kits or more.

Full price list: https://www.example.com/promo/bf2024

Best regards,
Lily Zhang
Shenzhen Haina Electronics Co., Ltd.

Unsubscribe: https://www.example.com/u/olivia-77a1"""),
    meta=M("Black Friday mail with a shouting subject: SUBJECT_EXCLAMATION (3x '!') 3 + SUBJECT_EMOJI 2 + SUBJECT_ALL_CAPS 2 + SUBJECT_SPAM_PHRASE ('limited time') 1 = 8 >= 6 -> hold; the body itself is fine and it has List-Unsubscribe",
           "hold", ["SUBJECT_EXCLAMATION", "SUBJECT_EMOJI", "SUBJECT_ALL_CAPS", "SUBJECT_SPAM_PHRASE"], ["BULK_NO_UNSUBSCRIBE", "BODY_IMAGE_ONLY"]))

# 020 -- Internal Chinese note pasted into mail for a German buyer.
message(20, "wrong-language-internal-note",
    frm=HAINA, to=[("Thomas Hoffmann", "t.hoffmann@example.de")],
    subject="Re: Sample order HN-PB10 - delivery date",
    date=rfc_date(2024, 5, 21, 17, 48, 0),
    in_reply_to=mid("8f31c2a0-4b1e-4d0e-9a56-hoffmann", "example.de"),
    body=text("""Dear Mr. Hoffmann,

Thank you for your payment for the two samples. They will leave Shenzhen by DHL Express tomorrow, and you should have them on Friday.

（内部备注：这个客户上次嫌价格高，样品费先别退，等他下大单再说。工厂那边说黑色外壳库存不够，先发白色的。）

Best regards,
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("English reply to a German buyer with an internal Chinese note (over 40 CJK characters) pasted in by mistake: WRONG_LANGUAGE (6) holds this recipient's copy; message rules alone score 0",
           "accept", ["WRONG_LANGUAGE"], ["MOJIBAKE", "ETIQUETTE_DE_FORMAL"],
           rcpt_verdicts={"t.hoffmann@example.de": "hold"}))

# 021 -- Chinese to a buyer in mainland China, GBK.
message(21, "chinese-quote-cn-gbk",
    frm=("张丽", "lily.zhang@example.com"), to=[("王建国", "wang.jg@example.cn")],
    subject="回复: 关于HN-BS07蓝牙音箱的报价",
    subject_charset="gbk",
    date=rfc_date(2024, 3, 12, 10, 20, 0),
    in_reply_to=mid("202403111630.wang", "example.cn"),
    body=text("""王经理，您好！

感谢您对我司蓝牙音箱的关注。关于您询问的HN-BS07型号，报价如下：

1. 数量1000台：单价人民币68元（含税，含国内运费）
2. 数量3000台以上：单价人民币63元
3. 交货期：收到定金后15个工作日

产品已通过3C认证，可提供检测报告。如需样品，我们可以免费寄送两台到贵司上海仓库。

如有任何问题，欢迎随时与我联系。

张丽
销售经理
深圳市海纳电子科技有限公司
电话：0755-2698 4410""", charset="gbk", cte="base64"),
    meta=M("Chinese quotation to a buyer in mainland China (.cn), GBK base64 body and GBK RFC 2047 subject with '回复:': Chinese is the recipient's language; the '！' is in the body, not the subject",
           "accept", [], ["WRONG_LANGUAGE", "MOJIBAKE", "SUBJECT_EXCLAMATION", "SUBJECT_SYMBOLS"]))

# 022 -- Traditional Chinese to Taiwan, Big5.
message(22, "shipping-tw-big5",
    frm=("林薇薇 Vivian Lin", "vivian.lin@example.com.cn"), to=[("林怡君", "yijun.lin@example.com.tw")],
    subject="訂單 JL-TW-0815 出貨通知",
    subject_charset="big5",
    date=rfc_date(2024, 8, 15, 14, 0, 0),
    body=text("""林小姐您好：

您訂購的露營帳篷（Trekker 3P，共80頂）及折疊椅（200張）已於今日從廈門港出貨。

船名：WAN HAI 316
提單號碼：WHLC038A21775
預計抵達基隆港：8月19日

報關所需的商業發票及裝箱單已寄至貴司報關行。若有任何問題，請隨時與我聯絡。

敬祝 商祺

林薇薇
廈門金鷺戶外用品有限公司""", charset="big5", cte="base64"),
    meta=M("Traditional Chinese shipping notice to a buyer in Taiwan (.com.tw), Big5 body and subject: Chinese is the recipient's language",
           "accept", [], ["WRONG_LANGUAGE", "MOJIBAKE", "SUBJECT_MISSING", "ATTACH_ON_COLD"]))

# 023 -- Read receipt kept on a reply.
message(23, "reply-with-read-receipt",
    frm=LANBO, to=[("Carlos Gómez", "carlos.gomez@example.com.mx")],
    subject="Re: Confirmación de pedido LB-24-0921 (ollas de acero inoxidable)",
    date=rfc_date(2024, 9, 24, 22, 15, 0),
    in_reply_to=mid("CY8PR11MB7012.gomez", "example.com.mx"),
    references=mid("CY8PR11MB7001.gomez", "example.com.mx") + " " + mid("20240920.lanbo.0921", "example.org") + " " + mid("CY8PR11MB7012.gomez", "example.com.mx"),
    extra=["Disposition-Notification-To: Amy Xu <amy.xu@example.org>"],
    mailer="Microsoft Outlook 16.0",
    body=text("""Estimado Sr. Gómez:

Confirmamos su pedido LB-24-0921:
- 250 juegos de ollas "Gourmet 5 piezas", acero inoxidable 18/8
- Precio: 23,40 USD por juego, FOB Ningbo
- Fecha de embarque: 25 de octubre

Le enviaremos la factura comercial en cuanto recibamos el anticipo del 30 %. Le agradecería una breve confirmación de recepción de este correo.

Saludos cordiales,
Amy Xu | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd."""),
    meta=M("Order confirmation on a live thread (In-Reply-To + References) asking for a read receipt: on a reply the Disposition-Notification-To header is kept, so READ_RECEIPT_COLD must not fire",
           "accept", [], ["READ_RECEIPT_COLD", "ATTACH_ON_COLD"]))

# 024 -- Subject full of acronyms but not all caps.
message(24, "pi-subject-acronyms",
    frm=LANBO_JL, to=[("Sarah Nguyen", "sarah@example.com.au")],
    subject="Re: PI for PO-2024-0815 (FOB Ningbo)",
    date=rfc_date(2024, 8, 16, 9, 30, 0),
    in_reply_to=mid("ME3PR01MB8843.sarah", "example.com.au"),
    body=multipart("mixed",
        text("""Hi Sarah,

Here is the proforma invoice for your PO-2024-0815: 500 bamboo cutting board sets with your laser logo, USD 5.60 per set, FOB Ningbo, total USD 2,800.00.

The 30% deposit (USD 840.00) can go to the same account as last time. Production starts the day we see it.

Kind regards,
Jason Lin | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd."""),
        attachment("PI_LB-2408-22_PO-2024-0815.pdf", make_pdf([
            "PROFORMA INVOICE LB-2408-22 (your PO-2024-0815)",
            "500 sets bamboo cutting board, laser logo, USD 5.60 FOB Ningbo",
            "Total USD 2,800.00 - deposit 30% USD 840.00"]), "application/pdf")),
    meta=M("Proforma invoice on a reply; the subject is rich in acronyms (PI, PO, FOB) but only 9 of 18 letters are capitals, under the 70 % all-caps line",
           "accept", [], ["SUBJECT_ALL_CAPS", "ATTACH_ON_COLD", "BODY_ATTACHMENT_ONLY"]))

# 025 -- 77-character subject.
message(25, "subject-just-under-limit",
    frm=HAINA_GC, to=[("Hannah Scott", "h.scott@example.co.uk")],
    subject="Re: Sample feedback on the 65W GaN charger and the new braided USB-C cables",
    date=rfc_date(2024, 4, 25, 16, 45, 0),
    in_reply_to=mid("LO2P265MB5512.scott", "example.co.uk"),
    body=text("""Dear Hannah,

Thank you for testing the samples so carefully. About your two points:

1. The charger gets warm at full 65 W load: this is normal for GaN, the housing stays under 55 °C in our tests, and it passed the UKCA safety test at 40 °C ambient.
2. The cable braid frays at the connector: you are right. We changed the strain relief to a longer TPE sleeve; the new samples leave tomorrow with tracking number DHL 8825 1043 66.

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Reply whose subject is 75 characters, just under the 78-character limit",
           "accept", [], ["SUBJECT_TOO_LONG"]))

# 026 -- Emoji in the body only.
message(26, "thank-you-emoji-body",
    frm=HENGDA, to=[("Lucía Fernández", "lucia@example.es")],
    subject="Gracias por su segundo pedido",
    date=rfc_date(2024, 12, 3, 16, 0, 0),
    body=text("""Hola Lucía:

Muchas gracias por su segundo pedido (HD-7012, 1.200 diademas de terciopelo). Nos alegra mucho saber que la primera partida se vendió tan bien en su tienda de Valencia 😊

El pedido saldrá de Yiwu el 10 de diciembre y llegará antes de Navidad.

Un saludo,
Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Thank-you mail to a returning customer with a smiley in the body only; the subject has no emoji",
           "accept", [], ["SUBJECT_EMOJI", "SUBJECT_EXCLAMATION"]))

# 027 -- Single "?" and "$" in the subject.
message(27, "price-question-subject",
    frm=HAINA, to=[("David Kim", "david.kim@example.us")],
    subject="Re: 2,000 pcs at $1.85/pc - does this work for you?",
    date=rfc_date(2024, 2, 27, 20, 40, 0),
    in_reply_to=mid("CAKx9-dkim-cable", "example.us"),
    body=text("""Hi David,

I checked with our factory manager: for 2,000 pcs of the 1 m braided USB-C to USB-C cable (60 W), we can do USD 1.85 per piece instead of 1.98, if the order is confirmed by 8 March. Packing is a polybag with your barcode sticker.

Does this work for you? If yes, I will send the PI tomorrow.
""" + sig_haina("Lily Zhang", "Sales Manager")),
    meta=M("Price negotiation reply; one '?' and one '$' in the subject are ordinary punctuation, not '???' or '$$' decoration",
           "accept", [], ["SUBJECT_SYMBOLS", "SUBJECT_EXCLAMATION", "SUBJECT_SPAM_PHRASE"]))

# 028 -- "freezers" is not "free".
message(28, "chest-freezers-sa",
    frm=("Harbin Coolwell Appliances", "sales@example.net"), to=[("Ahmed Al-Harbi", "a.alharbi@example.sa")],
    subject="Re: Quotation for 20 chest freezers, CIF Jeddah",
    date=rfc_date(2024, 1, 16, 13, 0, 0),
    in_reply_to=mid("GV1P189MB.alharbi", "example.sa"),
    body=text("""Dear Mr. Al-Harbi,

Thank you for your inquiry. For 20 chest freezers model CW-BD300 (300 L, R600a, 220 V / 60 Hz, SASO certified) our price is USD 238 per unit, CIF Jeddah Islamic Port, total USD 4,760.

Delivery: about 30 days after deposit. Warranty: 2 years on the compressor, spare parts shipped with the order.

We look forward to your reply.

Best regards,
Sunny Liu
Harbin Coolwell Appliances Co., Ltd."""),
    meta=M("Quotation reply to a Saudi buyer: 'freezers' contains the letters 'free' but is not the spam phrase 'free'",
           "accept", [], ["SUBJECT_SPAM_PHRASE", "BODY_SPAM_PHRASE", "ETIQUETTE_RED_PAYMENT"]))

# 029 -- Links whose text is a URL on the same registrable domain.
message(29, "support-links-same-domain",
    frm=HAINA_KW, to=[("Lukas Novák", "lukas.novak@example.cz")],
    subject="Re: Manual and driver for the HN-WC15 wireless charger",
    date=rfc_date(2024, 5, 6, 11, 11, 0),
    in_reply_to=mid("VI1PR08MB.novak", "example.cz"),
    body=alternative(
        text("""Dear Mr. Novák,

The user manual in Czech is here: https://support.example.com/manuals/HN-WC15-cs.pdf
Our short link for your customers is www.example.com/s/WC15 (it opens the same page).

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
        html("""<p>Dear Mr. Novák,</p>
<p>The user manual in Czech is here: <a href="https://support.example.com/manuals/HN-WC15-cs.pdf?utm_source=mail">support.example.com/manuals/HN-WC15-cs.pdf</a><br>
Our short link for your customers is <a href="https://www.example.com/s/WC15">www.example.com/s/WC15</a> (it opens the same page).</p>
<p>Best regards,<br>Kevin Wu<br>Shenzhen Haina Electronics Co., Ltd.</p>""")),
    meta=M("Link text 'support.example.com/…' pointing to support.example.com and text 'www.example.com/s/WC15' pointing to www.example.com: same registrable domain, so no mismatch; a short path on the company's own site is not a URL shortener",
           "accept", [], ["LINK_MISMATCH", "LINK_SHORTENER"]))

# 030 -- DOCX manual on a reply (a zip container, not an archive).
message(30, "manual-docx-reply",
    frm=JINLU_VL, to=[("Anna Lindqvist", "anna@example.se")],
    subject="Re: Assembly instructions for the Trekker 3P tent",
    date=rfc_date(2024, 4, 9, 9, 50, 0),
    in_reply_to=mid("HE1P190MB.lindqvist", "example.se"),
    body=multipart("mixed",
        text("""Dear Anna,

As promised, here are the assembly instructions for the Trekker 3P as a Word file, so your team can translate them into Swedish and add your logo. The pictures are in the file; the text is short, about one page.

Regards,
Vivian Lin
Xiamen Jinlu Outdoor Products Co., Ltd."""),
        attachment("Trekker3P_assembly_instructions_EN.docx", make_docx([
            "Trekker 3P - assembly instructions",
            "1. Spread the inner tent on flat ground, door facing away from the wind.",
            "2. Insert the two long poles crosswise into the sleeves.",
            "3. Fix the pole ends into the corner grommets and clip the tent to the poles.",
            "4. Throw the fly over, match the colour codes and stake out the guy lines."]),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document")),
    meta=M("Word .docx instructions on a reply: a .docx is a zip container inside but is a document, not an archive nor a macro file",
           "accept", [], ["ATTACH_ARCHIVE", "ATTACH_EXECUTABLE", "ATTACH_ON_COLD"]))

# 031 -- XLSX price list to Mexico on a reply.
message(31, "price-list-xlsx-mx",
    frm=HENGDA_LH, to=[("Alejandro Ramírez", "compras@example.com.mx")],
    subject="RE: Lista de precios fundas de móvil 2025",
    date=rfc_date(2025, 1, 8, 21, 5, 0),
    in_reply_to=mid("SJ0PR13MB.ramirez", "example.com.mx"),
    body=multipart("mixed",
        text("""Estimado Sr. Ramírez:

Adjunto la lista de precios 2025 de fundas para móvil en Excel, como nos pidió, con los modelos de iPhone 16 y Samsung Galaxy S25. Los precios son FOB Ningbo y válidos hasta el 31 de marzo.

El pedido mínimo es de 100 piezas por modelo y color.

Saludos cordiales,
Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
        attachment("Lista_de_precios_fundas_2025.xlsx", make_xlsx([
            ["Modelo", "Material", "Precio USD", "MOQ"],
            ["iPhone 16 silicona", "Silicona", 1.15, 100],
            ["iPhone 16 Pro MagSafe", "TPU + PC", 1.95, 100],
            ["Galaxy S25 silicona", "Silicona", 1.10, 100]]),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")),
    meta=M("Spanish reply with an .xlsx price list: an ordinary spreadsheet, not a macro-enabled .xlsm",
           "accept", [], ["ATTACH_EXECUTABLE", "ATTACH_ARCHIVE", "ATTACH_ON_COLD", "SUBJECT_ALL_CAPS"]))

# 032 -- 6.5 MB catalogue on a reply.
message(32, "catalogue-6mb-reply",
    frm=LANBO, to=[("Giulia Bianchi", "giulia@example.it")],
    subject="Re: Catalogo completo pentole e accessori",
    date=rfc_date(2024, 2, 20, 10, 0, 0),
    in_reply_to=mid("AM0PR10MB.bianchi", "example.it"),
    body=multipart("mixed",
        text("""Gentile Sig.ra Bianchi,

come richiesto, le invio il nostro catalogo completo 2024 (PDF, circa 6,5 MB) con pentole, padelle e accessori da cucina. I prezzi sono nella lista separata che le ho inviato lunedì.

Cordiali saluti,
Amy Xu
Ningbo Lanbo Kitchenware Co., Ltd."""),
        attachment("Lanbo_Catalogue_2024.pdf", make_pdf([
            "Ningbo Lanbo Kitchenware - Catalogue 2024", "Cookware, bakeware, kitchen tools"],
            pad=6_500_000), "application/pdf")),
    meta=M("Catalogue PDF of about 6.5 MB (8.8 MB once base64-encoded) on a reply: under the 10 MB attachment limit however it is counted",
           "accept", [], ["ATTACH_LARGE", "ATTACH_ON_COLD"]))

# 033 -- Buyer at gmail.com (a real provider, not a typo).
message(33, "reply-to-gmail-buyer",
    frm=HENGDA, to=[("Sarah Miller", "sarah.miller1987@gmail.com")],
    subject="Re: Party supplies for a wedding in June",
    date=rfc_date(2024, 3, 28, 8, 15, 0),
    in_reply_to=mid("CAB3xK-miller-wedding", "gmail.com"),
    body=text("""Hi Sarah,

Congratulations on the wedding! For 120 guests I would suggest:
- 12 rose-gold balloon garlands (USD 3.20 each)
- 150 table confetti bags (USD 0.25 each)
- 2 "Mr & Mrs" foil banners (USD 1.80 each)

Total USD 81.10 plus USD 28 air shipping to Denver, delivery in 10-12 days.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Reply to a private buyer at gmail.com, spelled correctly; the '!' after 'Congratulations on the wedding' is in the body only",
           "accept", [], ["RCPT_TYPO", "RCPT_DISPOSABLE", "SUBJECT_EXCLAMATION"]))

# 034 -- Company From, QQ only in Reply-To.
message(34, "company-from-qq-replyto",
    frm=HAINA_GC, to=[("Pierre Lambert", "p.lambert@example.be")],
    reply_to=("Grace Chen", "2874451093@qq.com"),
    subject="Re: Délai de livraison des enceintes HN-BS07",
    date=rfc_date(2024, 6, 11, 15, 25, 0),
    in_reply_to=mid("PR3P192MB.lambert", "example.be"),
    body=text("""Bonjour Monsieur Lambert,

Les 300 enceintes HN-BS07 de votre commande seront prêtes le 20 juin. Le transport aérien jusqu'à Liège prend ensuite 5 à 6 jours.

Je serai en salon à Hong Kong la semaine prochaine ; si vous répondez à ce message, votre réponse arrivera sur ma boîte personnelle que je consulte aussi en voyage.

Cordialement,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("From is the company domain; only Reply-To is a QQ mailbox: the From-based FREEMAIL_SENDER must not fire",
           "accept", [], ["FREEMAIL_SENDER"]))

# 035 -- Five external recipients plus internal colleagues.
message(35, "cc-five-external",
    frm=JINLU, to=[("Mark Evans", "m.evans@example.co.nz")],
    cc=[("Olivia Brown", "o.brown@example.co.nz"), ("Warehouse Auckland", "warehouse@example.co.nz"),
        ("Tom Fraser", "tom.fraser@example.co.nz"), ("Aroha Ngata", "accounts@example.co.nz"),
        ("Vivian Lin", "vivian.lin@example.com.cn"), ("Jinlu Logistics", "logistics@example.com.cn")],
    subject="Re: Container JL-NZ-0312 arrival and unloading",
    date=rfc_date(2024, 3, 12, 8, 5, 0),
    in_reply_to=mid("SY5P282MB.evans.0312", "example.co.nz"),
    body=text("""Dear Mark,

Thank you for adding your colleagues. Summary for everyone:

- Container MSKU 721450-3 (40HQ) arrives at Ports of Auckland on 18 March.
- 1,120 cartons: tents, folding chairs and hammocks, packing list as sent on 1 March.
- Please book the unloading for 20 March; cartons with red tape are the hammocks for the Wellington store.

Our logistics team (in Cc) will send the original B/L by courier today.
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Thread with the buyer's team: 5 external addresses (the buyer's company) plus 2 colleagues on the sender's own domain; 5 external is not more than 5",
           "accept", [], ["VISIBLE_RECIPIENTS"]))

# 036 -- A long reply in short paragraphs.
message(36, "long-reply-short-paragraphs",
    frm=HAINA, to=[("Thomas Hoffmann", "t.hoffmann@example.de")],
    subject="Re: Reklamation Powerbanks - Prüfbericht und nächste Schritte",
    date=rfc_date(2024, 10, 2, 10, 30, 0),
    in_reply_to=mid("8f31c2a0-4b1e-4d0e-9b10-hoffmann", "example.de"),
    body=text("""Dear Mr. Hoffmann,

Thank you for sending the six returned power banks and your test notes. Our quality team opened and tested all of them this week. I want to give you the full picture, so this mail is longer than usual.

What we found: four of the six units have a cold solder joint on the USB-C port. When the cable is moved, the connection breaks for a moment and the phone stops charging. The other two units work normally in our tests; we think they were returned together with the faulty ones.

Why it happened: in August our SMT line changed the solder paste supplier. The new paste needs a slightly higher reflow temperature, and for three days the oven profile was not adjusted. We have traced the affected production to batch 2408-B, which is about 1,200 units, of which 500 went to you.

What we have changed: the reflow profile was corrected on 28 August. Since then every batch gets a pull test on the USB-C port (20 units per batch), and the results are recorded with the batch number.

What we propose for your 500 units: we will ship 500 new power banks from batch 2409-D by air at our cost, leaving Shenzhen on 9 October. You do not need to return the old units; please dispose of them through your usual battery recycling, and we will refund the recycling fee against your invoice.

For your customers who already bought one: if they contact you, please simply exchange the unit from the new stock. You can recognise batch 2408-B by the last four characters of the serial number on the bottom label.

The full test report with photos is on our shared folder, and I can send it as a PDF if you prefer. I will also call you on Friday at 10:00 your time, if that suits you, to answer any questions.

About the claims from your online shop: please forward them to me once a week as one list with order numbers and serial numbers. We will check each serial number against the batch records and credit every confirmed unit, including the return postage your customers paid.

For the next orders we would also like to send a pre-shipment sample of ten units to your office by express, so your technician can test them before the container leaves. This adds about four days but gives both of us more certainty.

I am sorry for the trouble this caused you and your customers.

Best regards,
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Long complaint answer on a reply (about 430 words, over the 400-word cold limit) written in short paragraphs of at most about 55 words; the cold-message length limit does not apply to a reply",
           "accept", [], ["WALL_OF_TEXT", "ETIQUETTE_DE_FORMAL"]))

# 037 -- A very short but complete reply.
message(37, "short-payment-confirmation",
    frm=LANBO_JL, to=[("Sarah Nguyen", "sarah@example.com.au")],
    subject="Re: Deposit for PO-2024-0815",
    date=rfc_date(2024, 8, 19, 9, 2, 0),
    in_reply_to=mid("ME3PR01MB8850.sarah", "example.com.au"),
    body=text("""Hi Sarah,

Deposit of USD 840.00 received today, thank you. Production starts tomorrow.

Jason"""),
    meta=M("A one-line confirmation on a reply: short, but it has text and no attachment",
           "accept", [], ["BODY_EMPTY", "BODY_ATTACHMENT_ONLY", "SUBJECT_MISSING"]))

# 038 -- English to Japan with -san.
message(38, "suzuki-san-english",
    frm=HENGDA, to=[("Misaki Suzuki", "m.suzuki@example.co.jp")],
    subject="Re: Sample hair clips for your Osaka shop",
    date=rfc_date(2024, 5, 15, 10, 0, 0),
    in_reply_to=mid("TYCPR01MB.suzuki", "example.co.jp"),
    body=text("""Dear Suzuki-san,

Thank you for your kind reply. We sent the 12 sample hair clips (acetate, 4 designs x 3 colours) by EMS today; the tracking number is EB123456789CN.

We look forward to your feedback.

Best regards,
Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("English reply to a Japanese buyer greeted 'Dear Suzuki-san' (honorific present)",
           "accept", [], ["ETIQUETTE_JP_HONORIFIC", "WRONG_LANGUAGE"]))

# 039 -- Portuguese with SÃO PAULO in capitals, Latin-1.
message(39, "shipping-br-latin1",
    frm=JINLU_VL, to=[("Ana Souza", "ana.souza@example.com.br")],
    subject="Embarque do pedido JL-BR-2207 para São Paulo",
    subject_charset="iso-8859-1", subject_enc="Q",
    date=rfc_date(2024, 7, 22, 20, 0, 0),
    body=text("""Prezada Sra. Souza,

O seu pedido JL-BR-2207 (400 cadeiras dobráveis e 150 redes de camping) foi embarcado hoje no navio MSC BRUNA, com chegada prevista ao porto de Santos em 2 de setembro.

Endereço de entrega conforme a fatura:
Aventura Sul Comércio Ltda.
Rua Vergueiro, 1200 - Vila Mariana
SÃO PAULO - SP, 04101-000

Atenciosamente,
Vivian Lin
Xiamen Jinlu Outdoor Products Co., Ltd.""", charset="iso-8859-1", cte="quoted-printable"),
    meta=M("Portuguese shipping notice in ISO-8859-1 QP; 'SÃO PAULO' in capitals is a real word, not 'Ã©'-style double encoding",
           "accept", [], ["MOJIBAKE", "SUBJECT_ALL_CAPS"]))

# 040 -- "Dear Sirkka" is a name, not "Dear Sir".
message(40, "dear-sirkka-fi",
    frm=LANBO, to=[("Sirkka Virtanen", "sirkka@example.fi")],
    subject="Re: Silicone baking mats for your webshop",
    date=rfc_date(2024, 10, 21, 9, 0, 0),
    in_reply_to=mid("HE1PR03MB.virtanen", "example.fi"),
    body=text("""Dear Sirkka,

Thank you for your order of 200 silicone baking mats in the new sage green. They passed the LFGB food-contact test last month, and the report is on our website if your customers ask for it.

The mats will leave Ningbo on 28 October and reach Helsinki by rail in about 22 days.

Kind regards,
Amy Xu | Export Sales
Ningbo Lanbo Kitchenware Co., Ltd."""),
    meta=M("Greeting 'Dear Sirkka' (a Finnish first name) starts with 'Dear Sir' but is personal, not 'Dear Sir/Madam'",
           "accept", [], ["GENERIC_GREETING", "TEMPLATE_PLACEHOLDER"]))

# 041 -- Buyer at protonmail.com (private, not throwaway).
message(41, "reply-to-protonmail-buyer",
    frm=HAINA_KW, to=[("Karel Novak", "k.novak@protonmail.com")],
    subject="Re: Warranty claim for HN-BS07 speaker",
    date=rfc_date(2024, 12, 9, 16, 30, 0),
    in_reply_to=mid("protonmail-novak-8821", "protonmail.com"),
    body=text("""Dear Mr. Novak,

Thank you for the photo of the serial number. Your speaker is still under warranty until March 2025. We will send a replacement unit from our EU warehouse in Poland this week; please keep the old one until the new one arrives.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Warranty reply to a buyer at protonmail.com: a private mail provider, not a disposable one",
           "accept", [], ["RCPT_DISPOSABLE", "RCPT_TYPO"]))

# 042 -- Italian with XXL sizes and percentages.
message(42, "quote-it-xxl-sizes",
    frm=HENGDA_LH, to=[("Marco Rossi", "m.rossi@example.it")],
    subject="Re: Preventivo magliette sportive taglie S-XXL",
    date=rfc_date(2024, 2, 6, 15, 10, 0),
    in_reply_to=mid("CAJ7-rossi-tshirts", "example.it"),
    body=text("""Gentile Sig. Rossi,

ecco il nostro preventivo per 1.000 magliette sportive in poliestere riciclato:
- taglie S, M, L, XL: 3,10 EUR cadauna
- taglia XXL: 3,40 EUR cadauna
- stampa logo sul petto: 0,35 EUR

Pagamento: 30% di acconto alla conferma e 70% prima della spedizione.

Cordiali saluti,
Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Italian quote mentioning size XXL and '30% di acconto e 70%': neither 'XXL' nor the percent signs are merge fields ('Dear XXX', '%FNAME%')",
           "accept", [], ["TEMPLATE_PLACEHOLDER"]))

# 043 -- Catalogue reply with exactly 8 links.
L43 = [("LED strip kits", "https://www.example.com/c/led-strips"),
       ("LED panels", "https://www.example.com/c/led-panels"),
       ("Power banks", "https://www.example.com/c/power-banks"),
       ("GaN chargers", "https://www.example.com/c/chargers"),
       ("USB-C cables", "https://www.example.com/c/cables"),
       ("Bluetooth speakers", "https://www.example.com/c/speakers"),
       ("Wireless chargers", "https://www.example.com/c/wireless"),
       ("Certificates (CE, FCC, UKCA)", "https://www.example.com/certificates")]
message(43, "catalogue-eight-links",
    frm=HAINA, to=[("Emily Davis", "emily@example.ca")],
    subject="Re: Product range for your new electronics store",
    date=rfc_date(2024, 6, 25, 21, 0, 0),
    in_reply_to=mid("YT3PR01MB.davis", "example.ca"),
    body=alternative(
        text("""Dear Emily,

Thank you for telling me about your new store in Vancouver. Here are our main product lines, each page shows wholesale prices for 100, 500 and 1,000 pieces:

""" + "\n".join(f"- {t}" for t, _ in L43) + """

(the links are in the HTML version of this mail)

If you tell me your three most important categories, I will prepare a starter assortment for you.

Best regards,
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd."""),
        html("<p>Dear Emily,</p><p>Thank you for telling me about your new store in Vancouver. Here are our main product lines, each page shows wholesale prices for 100, 500 and 1,000 pieces:</p><ul>"
             + "".join(f'<li><a href="{u}">{t}</a></li>' for t, u in L43)
             + "</ul><p>If you tell me your three most important categories, I will prepare a starter assortment for you.</p><p>Best regards,<br>Lily Zhang<br>Sales Manager<br>Shenzhen Haina Electronics Co., Ltd.</p>")),
    meta=M("Answer to a new store with exactly 8 category links in the HTML (the text part names the same pages without URLs): 8 is not more than 8",
           "accept", [], ["LINK_HEAVY", "LINK_MISMATCH"]))

# 044 -- "Dear Mr. Xu" is a real name.
message(44, "dear-mr-xu-au",
    frm=JINLU, to=[("Daniel Xu", "daniel.xu@example.com.au")],
    subject="Re: Folding chairs - carton size for your container plan",
    date=rfc_date(2024, 9, 3, 11, 0, 0),
    in_reply_to=mid("SYBPR01MB.xu", "example.com.au"),
    body=text("""Dear Mr. Xu,

Here are the packing details you asked for, for the folding camp chair JL-FC05:
- 4 chairs per carton, carton size 92 x 58 x 42 cm, gross weight 14.5 kg
- a 40HQ container holds 1,320 chairs (330 cartons)

I hope this helps with your container plan.
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Greeting 'Dear Mr. Xu' (a Chinese surname) is a real name, not the placeholder 'Dear XXX'",
           "accept", [], ["TEMPLATE_PLACEHOLDER", "GENERIC_GREETING", "WRONG_LANGUAGE"]))

# 045 -- French complaint answer, multipart, UTF-8.
message(45, "complaint-answer-fr",
    frm=HAINA_KW, to=[("Claire Dubois", "claire.dubois@example.fr")],
    subject="Re: Chargeurs reçus ne fonctionnent pas",
    date=rfc_date(2024, 11, 12, 16, 40, 0),
    in_reply_to=mid("PAVPR10MB.dubois", "example.fr"),
    body=alternative(
        text("""Madame Dubois,

Merci pour votre message et pour la vidéo. Nous sommes désolés : les 12 chargeurs qui ne s'allument pas viennent d'un lot dont le fusible d'entrée était défectueux.

Nous vous envoyons aujourd'hui 12 chargeurs neufs par Colissimo International (suivi : CP123456785CN), et nous créditerons 24 EUR sur votre prochaine facture pour le temps perdu.

Bien cordialement,
Kevin Wu
Service après-vente, Shenzhen Haina Electronics Co., Ltd.""", cte="quoted-printable"),
        html("""<p>Madame Dubois,</p>
<p>Merci pour votre message et pour la vidéo. Nous sommes désolés&nbsp;: les 12 chargeurs qui ne s'allument pas viennent d'un lot dont le fusible d'entrée était défectueux.</p>
<p>Nous vous envoyons aujourd'hui 12 chargeurs neufs par Colissimo International (suivi&nbsp;: CP123456785CN), et nous créditerons 24&nbsp;EUR sur votre prochaine facture pour le temps perdu.</p>
<p>Bien cordialement,<br>Kevin Wu<br>Service après-vente, Shenzhen Haina Electronics Co., Ltd.</p>""", cte="base64")),
    meta=M("French complaint answer on a reply, text part in QP and HTML part in base64 (both UTF-8), replacement plus credit",
           "accept", [], ["MOJIBAKE", "GENERIC_GREETING", "HTML_ONLY"]))

# 046 -- Cold introduction, short, link instead of attachment.
message(46, "cold-intro-nl-no-attachment",
    frm=LANBO, to=[("Daan de Vries", "daan@example.nl")],
    subject="Stainless cookware from Ningbo for De Vries Kookwinkel",
    date=rfc_date(2024, 3, 4, 9, 20, 0),
    body=text("""Dear Mr. de Vries,

I found your shop through your stand at the Ambiente fair in Frankfurt. We are a cookware factory in Ningbo and supply tri-ply stainless pans and pots to kitchen shops in Belgium and Germany.

Our 2024 catalogue is online, so I did not attach it: https://www.example.org/catalogue/2024

If you would like a price list or two samples, a short reply is enough.
""" + sig_lanbo("Amy Xu")),
    meta=M("Cold first contact done right: says in two lines why she writes, under 100 words, links the catalogue instead of attaching it, no read receipt",
           "accept", [], ["ATTACH_ON_COLD", "WALL_OF_TEXT", "READ_RECEIPT_COLD", "GENERIC_GREETING"]))

# 047 -- Austrian buyer, formal German.
message(47, "quote-at-formal",
    frm=JINLU, to=[("Markus Gruber", "m.gruber@example.at")],
    subject="AW: Anfrage Hängematten für Sommersaison 2025",
    subject_charset="iso-8859-1", subject_enc="Q",
    date=rfc_date(2024, 11, 26, 9, 45, 0),
    in_reply_to=mid("VI1PR04MB.gruber", "example.at"),
    mailer="Microsoft Outlook 16.0",
    body=text("""Sehr geehrter Herr Gruber,

vielen Dank für Ihre Anfrage. Für 400 Hängematten JL-HM02 (Fallschirmseide, 2 Personen, inkl. Baumgurten) bieten wir Ihnen 9,20 EUR pro Stück DDP Wien an.

Lieferung bis Ende März 2025 ist möglich, wenn die Bestellung bis 15. Jänner bei uns eingeht.

Mit freundlichen Grüßen
Ryan Zheng
Xiamen Jinlu Outdoor Products Co., Ltd.""", charset="iso-8859-1", cte="quoted-printable"),
    meta=M("Austrian buyer addressed 'Sehr geehrter Herr Gruber' (German-speaking country, formal); Latin-1 QP",
           "accept", [], ["ETIQUETTE_DE_FORMAL", "MOJIBAKE"]))

# 048 -- Japanese newsletter with List-Unsubscribe.
message(48, "newsletter-jp-unsubscribe",
    frm=("ハイナ電子 日本窓口", "jp-news@example.com"), to=[("山本 直樹", "yamamoto@example.co.jp")],
    subject="新製品のご案内：65W GaN 充電器（PSE 取得済み）",
    date=rfc_date(2024, 10, 1, 10, 0, 0, "+0900"),
    extra=["List-Unsubscribe: <https://www.example.com/jp/unsubscribe?u=ya-5520>",
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
           "Precedence: bulk"],
    mailer=None,
    body=alternative(
        text("""山本様

いつもお世話になっております。ハイナ電子 日本窓口でございます。

このたび、PSE 認証を取得した 65W GaN 充電器「HN-GaN65J」を発売いたしました。
USB-C 2ポート、USB-A 1ポート、折りたたみ式プラグで、重さは 110g です。

卸価格（税抜）：100個以上 1,980円、500個以上 1,780円
詳細：https://www.example.com/jp/products/gan65j

今後ともよろしくお願い申し上げます。

配信停止はこちら：https://www.example.com/jp/unsubscribe?u=ya-5520""", cte="base64"),
        html("""<html><body>
<p>山本様</p>
<p>いつもお世話になっております。ハイナ電子 日本窓口でございます。</p>
<p>このたび、PSE 認証を取得した 65W GaN 充電器「HN-GaN65J」を発売いたしました。USB-C 2ポート、USB-A 1ポート、折りたたみ式プラグで、重さは 110g です。</p>
<p><img src="https://www.example.com/jp/img/gan65j.jpg" width="400" height="300" alt="HN-GaN65J"></p>
<p>卸価格（税抜）：100個以上 1,980円、500個以上 1,780円<br><a href="https://www.example.com/jp/products/gan65j">製品の詳細はこちら</a></p>
<p>今後ともよろしくお願い申し上げます。</p>
<p style="font-size:11px"><a href="https://www.example.com/jp/unsubscribe?u=ya-5520">配信停止</a></p>
</body></html>""", cte="base64")),
    meta=M("Japanese product newsletter (UTF-8 base64) to a .co.jp customer: 山本様, List-Unsubscribe with One-Click, one product image among real text",
           "accept", [], ["BULK_NO_UNSUBSCRIBE", "ETIQUETTE_JP_HONORIFIC", "WRONG_LANGUAGE", "BODY_IMAGE_ONLY"]))

# 049 -- Delay notice in 8bit UTF-8 to Canada.
message(49, "delay-notice-ca-8bit",
    frm=HAINA_GC, to=[("Liam Walsh", "liam@example.ca")],
    subject="Delay on order HN-24-1105: new ship date 2 December",
    date=rfc_date(2024, 11, 20, 22, 0, 0),
    mailer="Thunderbird 128.4.2",
    body=text("""Dear Liam,

I am writing to let you know about a delay on your order HN-24-1105 (150 wireless chargers HN-WC15).

The Qi2 certification lab in Shenzhen needs one more week to issue the test report, and we cannot ship Qi2 products to Canada without it. The new ship date is 2 December; delivery to Toronto by air should then be around 6 December.

If this is too late for your holiday promotion, we can ship the same quantity of our earlier model HN-WC10 (already certified) this week at a 10 % lower price. Just tell me which you prefer.

I apologise for the inconvenience.

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd.""", cte="8bit"),
    meta=M("Delay notice (proactive, explains why, offers an alternative) in 8bit UTF-8, as Thunderbird sends it",
           "accept", [], ["WALL_OF_TEXT", "MOJIBAKE", "SUBJECT_SYMBOLS"]))

# 050 -- Zip of product photos on a reply.
message(50, "photos-zip-reply",
    frm=HENGDA, to=[("Sophie Martin", "sophie.martin@example.fr")],
    subject="Re: Photos des pinces à cheveux pour votre boutique en ligne",
    date=rfc_date(2024, 10, 3, 11, 0, 0),
    in_reply_to=mid("PR1P264MB.martin", "example.fr"),
    body=multipart("mixed",
        text("""Bonjour Sophie,

Voici les photos sur fond blanc des 6 modèles de pinces à cheveux, en haute résolution pour votre boutique en ligne. Je les ai mises dans un fichier zip pour que l'envoi reste léger.

Bien à vous,
Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
        attachment("HD-claw-clips-photos.zip", make_zip([
            ("claw-clip-matte-black.png", make_png(4, 4, (20, 20, 20))),
            ("claw-clip-matte-beige.png", make_png(4, 4, (222, 200, 170))),
            ("claw-clip-tortoise.png", make_png(4, 4, (120, 70, 30))),
            ("claw-clip-pearl.png", make_png(4, 4, (240, 236, 228))),
            ("claw-clip-sage.png", make_png(4, 4, (150, 170, 140))),
            ("claw-clip-lilac.png", make_png(4, 4, (190, 170, 220)))]), "application/zip")),
    meta=M("Product photos zipped on a reply: ATTACH_ARCHIVE 1.5 (the recipient cannot preview a zip), accept; only .png names inside, nothing executable",
           "accept", ["ATTACH_ARCHIVE"], ["ATTACH_EXECUTABLE", "ATTACH_ON_COLD"]))

# 051 -- Two "!!" in the subject.
message(51, "subject-double-exclamation",
    frm=HENGDA_LH, to=[("Rachel Green", "rachel.green@example.us")],
    subject="Thank you!! Your yoga mats are on the way!!",
    date=rfc_date(2024, 11, 8, 21, 0, 0),
    body=text("""Hi Rachel,

Your 40 TPE yoga mats left Yiwu today with UPS, tracking number 1Z 4F8 E21 04 5590 1182. They should reach Austin around 14 November.

Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Shipping notice with four '!' in the subject: SUBJECT_EXCLAMATION at the higher weight 3, accept",
           "accept", ["SUBJECT_EXCLAMATION"], ["SUBJECT_ALL_CAPS", "SUBJECT_EMOJI"]))

# 052 -- Fullwidth "！" in a Chinese subject to a Chinese buyer.
message(52, "subject-fullwidth-exclamation-cn",
    frm=("张丽", "lily.zhang@example.com"), to=[("王建国", "wang.jg@example.cn")],
    subject="感谢您的订单！HN-BS07 已发货",
    subject_charset="gbk",
    date=rfc_date(2024, 4, 2, 15, 0, 0),
    body=text("""王经理，您好：

贵司订购的1000台HN-BS07蓝牙音箱已于今天下午通过顺丰快运发出，运单号SF1402937745566，预计后天送达上海仓库。

张丽
深圳市海纳电子科技有限公司""", charset="gbk", cte="base64"),
    meta=M("Chinese shipping notice to a .cn buyer with a fullwidth '！' in the subject: SUBJECT_EXCLAMATION 1.5, accept; Chinese to China is the right language",
           "accept", ["SUBJECT_EXCLAMATION"], ["WRONG_LANGUAGE", "SUBJECT_SYMBOLS"]))

# 053 -- Asterisks as decoration.
message(53, "subject-asterisks",
    frm=LANBO_JL, to=[("Katrin Meyer", "k.meyer@example.de")],
    subject="*** New arrivals: bamboo cutting board sets ***",
    date=rfc_date(2024, 6, 4, 9, 10, 0),
    body=text("""Dear Ms. Meyer,

Our new bamboo cutting board sets (three sizes, juice groove, FSC bamboo) are now in stock in Ningbo. Price for 300 sets with your laser logo: USD 5.60 per set FOB.

Photos and details: https://www.example.org/products/bamboo-board-set

Kind regards,
Jason Lin
Ningbo Lanbo Kitchenware Co., Ltd."""),
    meta=M("Product news whose subject is framed with '***': SUBJECT_SYMBOLS 1.5, accept",
           "accept", ["SUBJECT_SYMBOLS"], ["SUBJECT_EXCLAMATION", "ETIQUETTE_DE_FORMAL"]))

# 054 -- All caps.
message(54, "subject-all-caps",
    frm=JINLU, to=[("Jack Thompson", "jack@example.com.au")],
    subject="SHIPPING UPDATE FOR YOUR ORDER JL-AU-5521",
    date=rfc_date(2024, 7, 30, 10, 0, 0),
    body=text("""Dear Jack,

The vessel with your container (tents and folding chairs, order JL-AU-5521) left Xiamen yesterday. ETA Port Botany: 16 August. The telex-released B/L will follow once the balance is received.
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Shipping update with an all-capital subject: SUBJECT_ALL_CAPS 2, accept",
           "accept", ["SUBJECT_ALL_CAPS"], ["SUBJECT_EXCLAMATION", "SUBJECT_SPAM_PHRASE"]))

# 055 -- "Urgent" in the subject.
message(55, "subject-urgent",
    frm=HAINA_KW, to=[("Hannah Scott", "h.scott@example.co.uk")],
    subject="Urgent: please confirm the delivery address for order HN-24-0877",
    date=rfc_date(2024, 5, 2, 10, 15, 0),
    body=text("""Dear Hannah,

UPS tells us that the address on order HN-24-0877 (Unit 4, Harbour Trade Park, Bristol) has no postcode. Could you please send us the postcode today, so the parcel is not returned?

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Real business question, but 'Urgent' in the subject is a spam-trigger word: SUBJECT_SPAM_PHRASE 1, accept",
           "accept", ["SUBJECT_SPAM_PHRASE"], ["SUBJECT_ALL_CAPS", "SUBJECT_EXCLAMATION"]))

# 056 -- Subject over 78 characters.
message(56, "subject-too-long",
    frm=LANBO, to=[("Giulia Bianchi", "giulia@example.it")],
    subject="Offerta pentole acciaio inox 18/10 serie Gourmet, padelle antiaderenti e accessori da cucina 2025",
    date=rfc_date(2025, 1, 14, 9, 30, 0),
    body=text("""Gentile Sig.ra Bianchi,

le invio la nostra offerta 2025 per la serie Gourmet in acciaio inox 18/10 e per le padelle antiaderenti. I prezzi sono invariati rispetto al 2024 per ordini confermati entro il 28 febbraio.

Cordiali saluti,
Amy Xu
Ningbo Lanbo Kitchenware Co., Ltd."""),
    meta=M("Offer whose subject is 96 characters and gets cut off in the inbox: SUBJECT_TOO_LONG 0.5, accept",
           "accept", ["SUBJECT_TOO_LONG"], ["SUBJECT_SYMBOLS", "SUBJECT_MISSING"]))

# 057 -- No subject header at all.
message(57, "subject-missing",
    frm=HENGDA, to=[("Lucía Fernández", "lucia@example.es")],
    subject="", no_subject=True,
    date=rfc_date(2024, 12, 11, 10, 0, 0),
    body=text("""Hola Lucía:

Su pedido HD-7012 de diademas ya está en camino. El número de seguimiento de DHL es 6041 2279 18 y la entrega está prevista para el 17 de diciembre.

Un saludo,
Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Shipping notice sent without any Subject header: SUBJECT_MISSING 4, accept (below 6)",
           "accept", ["SUBJECT_MISSING"], ["BODY_EMPTY", "SUBJECT_TOO_LONG"]))

# 058 -- Empty draft sent by mistake.
message(58, "body-empty-draft",
    frm=LANBO_JL, to=[("Sarah Nguyen", "sarah@example.com.au")],
    subject="Shipping documents for PO-2024-0815",
    date=rfc_date(2024, 9, 20, 17, 30, 0),
    body=text("\n\n", cte="7bit"),
    meta=M("Subject promises documents but the body is empty and nothing is attached (sent too early): BODY_EMPTY 8 >= 6, hold",
           "hold", ["BODY_EMPTY"], ["SUBJECT_MISSING", "BODY_ATTACHMENT_ONLY"]))

# 059 -- Empty body and no subject.
message(59, "body-and-subject-empty",
    frm=HENGDA_LH, to=[("Alejandro Ramírez", "compras@example.com.mx")],
    subject="",
    date=rfc_date(2025, 1, 9, 3, 12, 0),
    mailer="iPhone Mail (21C66)",
    body=multipart("alternative", text(" ", cte="7bit"), html("<html><body><div><br></div></body></html>", cte="7bit")),
    meta=M("Accidental send from a phone: empty 'Subject: ' and an empty text/HTML body: BODY_EMPTY 8 + SUBJECT_MISSING 4 = 12 >= 12, reject (the writer sees it at once and keeps the draft)",
           "reject", ["BODY_EMPTY", "SUBJECT_MISSING"], ["HTML_ONLY", "BODY_IMAGE_ONLY"]))

# 060 -- Image-only promotion, HTML only.
message(60, "image-only-promo",
    frm=("Hengda Trading", "promo@example.net"), to=[("Sophie Martin", "sophie.martin@example.fr")],
    subject="Spring collection 2025 - hair accessories",
    date=rfc_date(2025, 2, 18, 9, 0, 0),
    extra=["List-Unsubscribe: <mailto:unsubscribe@example.net?subject=sophie.martin>", "Precedence: bulk"],
    mailer=None,
    body=html("""<html><body style="margin:0">
<table width="640" align="center"><tr><td>
<a href="https://www.example.net/spring2025"><img src="https://www.example.net/mail/spring2025-1.jpg" width="640" height="900" alt=""></a><br>
<a href="https://www.example.net/spring2025#clips"><img src="https://www.example.net/mail/spring2025-2.jpg" width="640" height="900" alt=""></a><br>
<a href="https://www.example.net/spring2025#bands"><img src="https://www.example.net/mail/spring2025-3.jpg" width="640" height="700" alt=""></a>
<p style="font-size:10px;color:#999">Yiwu Hengda Import &amp; Export Co., Ltd.</p>
</td></tr></table></body></html>"""),
    meta=M("Promotion made of three big images and a one-line footer, HTML only: BODY_IMAGE_ONLY 5 + HTML_ONLY 1 = 6 >= 6, hold (image blockers show an empty mail)",
           "hold", ["BODY_IMAGE_ONLY", "HTML_ONLY"], ["BULK_NO_UNSUBSCRIBE", "LINK_HEAVY"]))

# 061 -- Attachment with almost no text, on a reply.
message(61, "attachment-only-reply",
    frm=HAINA_GC, to=[("Michael Brown", "mbrown@example.us")],
    subject="Re: [Order #1234] Commercial invoice and packing list",
    date=rfc_date(2024, 6, 27, 18, 0, 0),
    in_reply_to=mid("CAF9x5-order1234-brown", "example.us"),
    body=multipart("mixed",
        text("Please see attached.", cte="7bit"),
        attachment("CI_PL_Order1234.pdf", make_pdf([
            "COMMERCIAL INVOICE CI-20240627-01 / PACKING LIST", "Order #1234 - 600 pcs HN-GaN65",
            "30 cartons, 18.6 kg each, 0.042 cbm each"]), "application/pdf")),
    meta=M("Reply whose whole text is 'Please see attached.' next to a PDF: BODY_ATTACHMENT_ONLY 5, accept (a reply, so no ATTACH_ON_COLD)",
           "accept", ["BODY_ATTACHMENT_ONLY"], ["ATTACH_ON_COLD", "BODY_EMPTY", "TEMPLATE_PLACEHOLDER"]))

# 062 -- "Dear XXX".
message(62, "placeholder-dear-xxx",
    frm=LANBO, to=[("Daan de Vries", "daan@example.nl")],
    subject="Re: Price list stainless cookware",
    date=rfc_date(2024, 3, 11, 10, 0, 0),
    in_reply_to=mid("AM9PR07MB7233.daan", "example.nl"),
    body=text("""Dear XXX,

Thank you for your interest in our tri-ply cookware. Our prices for the Gourmet 5-piece set are USD 23.40 per set for 250 sets and USD 21.90 for 500 sets, FOB Ningbo.
""" + sig_lanbo("Amy Xu")),
    meta=M("Reply pasted from a template without replacing 'Dear XXX': TEMPLATE_PLACEHOLDER, fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["GENERIC_GREETING", "ATTACH_ON_COLD"]))

# 063 -- Mailchimp merge tag in a newsletter.
message(63, "placeholder-mailchimp-fname",
    frm=("Jinlu Outdoor", "news@example.com.cn"), to=[("Ben Fischer", "ben.fischer@example.com.au")],
    subject="New 2025 tents: lighter poles, same price",
    date=rfc_date(2025, 2, 3, 8, 0, 0),
    extra=["List-Unsubscribe: <https://www.example.com.cn/unsub/bf-4471>",
           "List-Unsubscribe-Post: List-Unsubscribe=One-Click", "Precedence: bulk"],
    mailer=None,
    body=alternative(
        text("""Hi *|FNAME|*,

Our 2025 Trekker tents use 7001 aluminium poles instead of fibreglass: 400 g lighter, same wholesale price as 2024.

See the range: https://www.example.com.cn/tents-2025

Ryan Zheng, Xiamen Jinlu Outdoor Products
Unsubscribe: https://www.example.com.cn/unsub/bf-4471"""),
        html("""<p>Hi *|FNAME|*,</p><p>Our 2025 Trekker tents use 7001 aluminium poles instead of fibreglass: 400&nbsp;g lighter, same wholesale price as 2024.</p>
<p><a href="https://www.example.com.cn/tents-2025">See the 2025 range</a></p>
<p>Ryan Zheng, Xiamen Jinlu Outdoor Products<br><a href="https://www.example.com.cn/unsub/bf-4471">Unsubscribe</a></p>""")),
    meta=M("Newsletter (with List-Unsubscribe) whose merge tag '*|FNAME|*' was not filled: TEMPLATE_PLACEHOLDER, fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["BULK_NO_UNSUBSCRIBE", "SUBJECT_SYMBOLS"]))

# 064 -- [Customer Name].
message(64, "placeholder-customer-name",
    frm=HAINA_KW, to=[("Lukas Novák", "lukas.novak@example.cz")],
    subject="Re: Wireless charger stops charging after a few minutes",
    date=rfc_date(2024, 5, 20, 9, 0, 0),
    in_reply_to=mid("VI1PR08MB.novak.2", "example.cz"),
    body=text("""Dear [Customer Name],

We are sorry to hear about the problem with your wireless charger. This usually happens when a phone case thicker than 5 mm is used. Please try without the case; if it still stops, we will replace the charger.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Complaint answer from the after-sales template with '[Customer Name]' left in: TEMPLATE_PLACEHOLDER, fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["GENERIC_GREETING"]))

# 065 -- "Hi ," with an empty merge field, and %FNAME% in the body.
message(65, "placeholder-empty-hi",
    frm=HENGDA, to=[("Olivia Harris", "olivia@example.co.uk")],
    subject="Your phone case order HD-6544",
    date=rfc_date(2024, 9, 12, 16, 0, 0),
    body=text("""Hi ,

Thank you for ordering from Hengda. Your 300 phone cases will ship on 16 September. We will email the tracking number to %FNAME% at this address as soon as we have it.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Order note where the name merge field came out empty ('Hi ,') and a '%FNAME%' token stayed in the text: TEMPLATE_PLACEHOLDER, fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["GENERIC_GREETING", "SUBJECT_SYMBOLS"]))

# 066 -- <<Name>>様 in Japanese, ISO-2022-JP.
message(66, "placeholder-jp-name",
    frm=("ハイナ電子 日本窓口", "jp-news@example.com"), to=[("佐藤 健太", "k.sato@example.co.jp")],
    subject="ご注文ありがとうございました",
    subject_charset="iso-2022-jp",
    date=rfc_date(2024, 8, 5, 10, 0, 0, "+0900"),
    body=text("""<<Name>>様

このたびはハイナ電子の製品をご注文いただき、誠にありがとうございます。
ご注文品は3営業日以内に発送いたします。

今後ともよろしくお願い申し上げます。
ハイナ電子 日本窓口""", charset="iso-2022-jp", cte="7bit"),
    meta=M("Japanese order thank-you (ISO-2022-JP) from a template whose '<<Name>>' was never filled; the honorific 様 is there: TEMPLATE_PLACEHOLDER, fixed hold",
           "hold", ["TEMPLATE_PLACEHOLDER"], ["ETIQUETTE_JP_HONORIFIC", "WRONG_LANGUAGE"]))

# 067 -- "Dear Customer".
message(67, "generic-greeting",
    frm=HAINA_KW, to=[("Emma Clarke", "emma.clarke@example.co.uk")],
    subject="Re: Missing remote in one LED strip kit",
    date=rfc_date(2024, 7, 19, 10, 0, 0),
    in_reply_to=mid("LO4P123MB.clarke", "example.co.uk"),
    body=text("""Dear Customer,

Thank you for letting us know that one LED strip kit in order HN-24-0871 had no remote control. We will send two spare remotes by post today, no need to return anything.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("After-sales reply to a buyer who signed her mail as Emma, but greeted 'Dear Customer': GENERIC_GREETING 1, accept",
           "accept", ["GENERIC_GREETING"], ["TEMPLATE_PLACEHOLDER"]))

# 068 -- Visible URL text pointing elsewhere (click tracking).
message(68, "link-mismatch-tracking",
    frm=HAINA_GC, to=[("Liam Walsh", "liam@example.ca")],
    subject="Tracking for order HN-24-1105",
    date=rfc_date(2024, 12, 2, 21, 0, 0),
    body=alternative(
        text("""Dear Liam,

Your order HN-24-1105 has shipped. Track it here: https://track.example.net/?n=4512889377

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
        html("""<p>Dear Liam,</p><p>Your order HN-24-1105 has shipped. Track it here:
<a href="https://click.example.org/c/eyJ1IjoiNDUxMjg4OTM3NyJ9">https://track.example.net/?n=4512889377</a></p>
<p>Best regards,<br>Grace Chen<br>Shenzhen Haina Electronics Co., Ltd.</p>""")),
    meta=M("Shipping mail whose link shows the carrier's URL (track.example.net) but goes through a click-tracking domain (example.org): LINK_MISMATCH 4, accept",
           "accept", ["LINK_MISMATCH"], ["LINK_SHORTENER", "LINK_HEAVY", "HTML_ONLY"]))

# 069 -- Mismatch plus shortener: 5.5, still accept.
message(69, "link-mismatch-and-shortener",
    frm=HENGDA_LH, to=[("David Kim", "david.kim@example.us")],
    subject="Your sample order HD-S-0311 has shipped",
    date=rfc_date(2024, 3, 11, 20, 0, 0),
    body=alternative(
        text("""Hi David,

Your samples are on the way with DHL. Tracking: https://bit.ly/3xHdS0311
Our new catalogue: https://www.example.net/catalogue

Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
        html("""<p>Hi David,</p><p>Your samples are on the way with DHL. Tracking: <a href="https://bit.ly/3xHdS0311">https://bit.ly/3xHdS0311</a><br>
Our new catalogue: <a href="https://mailtrack.example.org/r/8f1c2e?u=https%3A%2F%2Fwww.example.net%2Fcatalogue">https://www.example.net/catalogue</a></p>
<p>Leo Huang<br>Yiwu Hengda Import &amp; Export Co., Ltd.</p>""")),
    meta=M("Tracking via bit.ly plus a catalogue link whose visible URL (example.net) differs from its tracked href (example.org): LINK_MISMATCH 4 + LINK_SHORTENER 1.5 = 5.5 < 6, accept",
           "accept", ["LINK_MISMATCH", "LINK_SHORTENER"], ["LINK_HEAVY"]))

# 070 -- QQ sender plus mismatch: 6, hold.
message(70, "qq-sender-link-mismatch",
    frm=("Grace Chen", "2874451093@qq.com"), to=[("Pierre Lambert", "p.lambert@example.be")],
    subject="Invoice HN-24-0702 and payment link",
    date=rfc_date(2024, 7, 2, 15, 0, 0),
    body=alternative(
        text("""Dear Mr. Lambert,

The invoice for your order HN-24-0702 (300 HN-BS07 speakers, EUR 4,650.00) is ready. You can view and pay it here: https://pay.example.com/inv/HN-24-0702

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
        html("""<p>Dear Mr. Lambert,</p><p>The invoice for your order HN-24-0702 (300 HN-BS07 speakers, EUR 4,650.00) is ready. You can view and pay it here:
<a href="https://u8812.ct.example.net/ls/click?upn=HN-24-0702">https://pay.example.com/inv/HN-24-0702</a></p>
<p>Best regards,<br>Grace Chen<br>Shenzhen Haina Electronics Co., Ltd.</p>""")),
    meta=M("Invoice mail sent from a personal QQ mailbox whose payment link shows one domain and goes to another: FREEMAIL_SENDER 2 + LINK_MISMATCH 4 = 6 >= 6, hold (looks like invoice phishing to the buyer's filter)",
           "hold", ["FREEMAIL_SENDER", "LINK_MISMATCH"], ["LINK_SHORTENER", "ATTACH_ON_COLD"]))

# 071 -- bit.ly alone.
message(71, "link-shortener",
    frm=JINLU_VL, to=[("Anna Lindqvist", "anna@example.se")],
    subject="Video: setting up the Trekker 3P in 4 minutes",
    date=rfc_date(2024, 4, 16, 10, 0, 0),
    body=alternative(
        text("""Dear Anna,

Several of your customers asked how to pitch the Trekker 3P. We made a 4-minute video you can link from your shop: https://bit.ly/trekker3p-setup

Regards,
Vivian Lin
Xiamen Jinlu Outdoor Products Co., Ltd."""),
        html("""<p>Dear Anna,</p><p>Several of your customers asked how to pitch the Trekker 3P. We made a 4-minute video you can link from your shop:
<a href="https://bit.ly/trekker3p-setup">watch the setup video</a></p><p>Regards,<br>Vivian Lin<br>Xiamen Jinlu Outdoor Products Co., Ltd.</p>""")),
    meta=M("Helpful video link, but through bit.ly (receivers distrust shorteners): LINK_SHORTENER 1.5, accept; the link text is words, so no mismatch",
           "accept", ["LINK_SHORTENER"], ["LINK_MISMATCH"]))

# 072 -- Legitimate 9-link catalogue mail.
L72 = L43 + [("Smart plugs (new)", "https://www.example.com/c/smart-plugs")]
message(72, "catalogue-nine-links",
    frm=HAINA, to=[("Hannah Scott", "h.scott@example.co.uk")],
    subject="Re: Full product range and wholesale prices",
    date=rfc_date(2024, 9, 17, 16, 0, 0),
    in_reply_to=mid("LO2P265MB5590.scott", "example.co.uk"),
    body=alternative(
        text("""Dear Hannah,

As you asked, here is our full range with wholesale prices per category:

""" + "\n".join(f"- {t}: {u}" for t, u in L72) + """

Best regards,
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd."""),
        html("<p>Dear Hannah,</p><p>As you asked, here is our full range with wholesale prices per category:</p><ul>"
             + "".join(f'<li><a href="{u}">{t}</a></li>' for t, u in L72)
             + "</ul><p>Best regards,<br>Lily Zhang<br>Sales Manager<br>Shenzhen Haina Electronics Co., Ltd.</p>")),
    meta=M("Legitimate answer listing 9 category pages (9 distinct links): LINK_HEAVY 1 alone, accept",
           "accept", ["LINK_HEAVY"], ["LINK_MISMATCH", "LINK_SHORTENER"]))

# 073 -- Spam phrases in the body.
message(73, "body-spam-phrases",
    frm=HENGDA, to=[("Lucía Fernández", "lucia@example.es")],
    subject="Christmas hair accessories for your shop",
    date=rfc_date(2024, 10, 29, 9, 0, 0),
    body=text("""Hola Lucía:

Our Christmas velvet scrunchies are back. This is a limited time offer: order before 15 November and get 10% off. Act now, because the red colour sold out last year in two weeks.

Click here to see the colours: https://www.example.net/xmas2024

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Seasonal offer written with three spam-trigger phrases in the body ('limited time', 'act now', 'click here'): BODY_SPAM_PHRASE 3 x 0.5 = 1.5, accept",
           "accept", ["BODY_SPAM_PHRASE"], ["SUBJECT_SPAM_PHRASE"], body_spam=3))

def moji(s):
    """What a UTF-8 text looks like after being decoded once more as Latin-1/CP1252."""
    return s.encode("utf-8").decode("cp1252", errors="replace")


# 074 -- 锟斤拷 in a Chinese message.
message(74, "mojibake-kunjinkao-cn",
    frm=("张丽", "lily.zhang@example.com"), to=[("王建国", "wang.jg@example.cn")],
    subject="回复: 合同修改稿",
    date=rfc_date(2024, 4, 10, 11, 0, 0),
    in_reply_to=mid("202404091200.wang", "example.cn"),
    body=text("""王经理，您好：

合同修改稿已按您的意见调整，第三条付款方式改为：锟斤拷锟斤拷锟斤拷锟斤拷30%锟斤拷锟斤拷70%锟斤拷

请您确认，谢谢。

张丽
深圳市海纳电子科技有限公司""", cte="base64"),
    meta=M("Chinese reply to a .cn buyer where the key sentence was pasted through a wrong charset and reads '锟斤拷锟斤拷…': MOJIBAKE 6, hold (the customer cannot read the payment terms)",
           "hold", ["MOJIBAKE"], ["WRONG_LANGUAGE"]))

# 075 -- UTF-8 read as Latin-1, French.
message(75, "mojibake-double-utf8-fr",
    frm=JINLU_VL, to=[("Julien Moreau", "j.moreau@example.fr")],
    subject="Re: Livraison commande JL-2405-19",
    date=rfc_date(2024, 6, 14, 10, 0, 0),
    in_reply_to=mid("a7c8e1f0.moreau.2406", "example.fr"),
    body=text(moji("""Bonjour Monsieur Moreau,

Votre commande JL-2405-19 est arrivée au Havre. Le déchargement est prévu mercredi et la livraison à votre entrepôt de Rouen jeudi matin.

Bien cordialement,
Vivian Lin""") + """
Xiamen Jinlu Outdoor Products Co., Ltd.""", charset="utf-8", cte="quoted-printable"),
    meta=M("French reply whose text was double-encoded (UTF-8 read as CP1252 and saved again: 'arrivÃ©e', 'dÃ©chargement'): MOJIBAKE 6, hold",
           "hold", ["MOJIBAKE"], ["WRONG_LANGUAGE", "GENERIC_GREETING"]))

# 076 -- U+FFFD replacement characters, German.
message(76, "mojibake-replacement-char-de",
    frm=LANBO, to=[("Sabine Schmidt", "s.schmidt@example.de")],
    subject="Re: Lieferverzoegerung Bestellung LB-24-0412",
    date=rfc_date(2024, 4, 30, 9, 0, 0),
    in_reply_to=mid("FR3P281MB.schmidt", "example.de"),
    body=text("""Sehr geehrte Frau Schmidt,

das Schiff ist am 27. April ausgelaufen. Ihre T\ufffdpfe kommen voraussichtlich am 4. Juni in Hamburg an. Wir bitten nochmals um Entschuldigung f\ufffdr die Verz\ufffdgerung.

Mit freundlichen Gr\ufffd\ufffden
Amy Xu""", cte="quoted-printable"),
    meta=M("German reply where every umlaut became U+FFFD ('T�pfe', 'f�r', 'Gr��en'): MOJIBAKE 6, hold",
           "hold", ["MOJIBAKE"], ["ETIQUETTE_DE_FORMAL", "SUBJECT_MISSING"]))

# 077 -- Mojibake + no subject + 163.com: 12, reject.
message(77, "mojibake-freemail-no-subject",
    frm=("Lily Zhang", "haina_lily@163.com"), to=[("Petra Becker", "einkauf@example.de")],
    subject="",
    date=rfc_date(2024, 8, 8, 23, 40, 0),
    mailer="NetEase Mail Master 5.3",
    body=text(moji("""Sehr geehrte Frau Becker,

anbei die Übersicht über Ihre offenen Bestellungen. Die Ware für März ist fertig, wir können nächste Woche verschiffen.

Mit freundlichen Grüßen
Lily Zhang"""), cte="quoted-printable"),
    meta=M("From a personal 163.com box, empty Subject, body double-encoded ('Ãœbersicht', 'GrÃ¼ÃŸen'): MOJIBAKE 6 + SUBJECT_MISSING 4 + FREEMAIL_SENDER 2 = 12 >= 12, reject",
           "reject", ["MOJIBAKE", "SUBJECT_MISSING", "FREEMAIL_SENDER"], ["ETIQUETTE_DE_FORMAL"]))

# 078 -- Chinese paragraph for the Chinese agent in Cc: held for the German buyer only.
message(78, "wrong-language-per-recipient",
    frm=HAINA, to=[("Thomas Hoffmann", "t.hoffmann@example.de")],
    cc=[("陈志强", "chen.zq@example.cn")],
    subject="Re: Inspection before shipment, order HN-24-0720",
    date=rfc_date(2024, 7, 20, 10, 0, 0),
    in_reply_to=mid("8f31c2a0-4b1e-4d0e-9a80-hoffmann", "example.de"),
    body=text("""Dear Mr. Hoffmann,

The 2,000 power banks of order HN-24-0720 are ready. Your inspection agent Mr. Chen (in Cc) is welcome at our factory on Tuesday 23 July at 9:30.

陈先生，您好！工厂地址：深圳市宝安区福永街道凤凰第四工业区A栋三楼。请周二上午九点半到，我们安排人在门口接您，抽检按AQL 2.5标准执行。

Best regards,
Lily Zhang
Sales Manager
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("One message, two recipients: a Chinese paragraph for the buyer's Chinese inspection agent (.cn, fine) inside an English mail to the German buyer: WRONG_LANGUAGE holds only the .de copy; message score 0",
           "accept", ["WRONG_LANGUAGE"], ["MOJIBAKE"],
           rcpt_verdicts={"t.hoffmann@example.de": "hold", "chen.zq@example.cn": "accept"}))

# 079 -- One paragraph over 150 words.
message(79, "wall-of-text-paragraph",
    frm=HENGDA_LH, to=[("Alejandro Ramírez", "compras@example.com.mx")],
    subject="Re: Retraso en el pedido HD-7120",
    date=rfc_date(2025, 1, 20, 21, 0, 0),
    in_reply_to=mid("SJ0PR13MB.ramirez.2", "example.com.mx"),
    body=text("""Estimado Sr. Ramírez:

Le pido disculpas por el retraso de su pedido HD-7120, y le explico lo que ha pasado: la fábrica de silicona que produce las fundas para el Galaxy S25 recibió los moldes definitivos una semana más tarde de lo previsto porque Samsung cambió en el último momento la posición de la cámara, y como nosotros no queríamos enviarle fundas que no encajaran bien, decidimos esperar a los moldes nuevos en lugar de usar los antiguos, lo que significa que la producción empezó el 15 de enero en vez del 8, y además el Año Nuevo chino empieza el 29 de enero, así que la fábrica cerrará del 26 de enero al 5 de febrero, y por eso hemos pedido a la fábrica que trabaje también el sábado y el domingo para terminar las 3.000 fundas antes del cierre, y si todo va bien podremos entregarlas al transitario el 24 de enero, con llegada a Manzanillo hacia el 25 de febrero, aunque le confirmaré la fecha exacta cuando tengamos la reserva del barco.

Saludos cordiales,
Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Honest delay explanation written as one 170-word paragraph: WALL_OF_TEXT 0.5, accept",
           "accept", ["WALL_OF_TEXT"], ["ATTACH_ON_COLD"]))

# 080 -- Cold message over 400 words.
message(80, "wall-of-text-cold-long",
    frm=JINLU, to=[("Tom Fraser", "tom.fraser@example.co.nz")],
    subject="Introducing Xiamen Jinlu Outdoor: tents, chairs and hammocks",
    date=rfc_date(2024, 2, 19, 9, 0, 0),
    body=text("""Dear Mr. Fraser,

My name is Ryan Zheng and I am the overseas sales manager of Xiamen Jinlu Outdoor Products, a manufacturer of camping equipment in Xiamen, Fujian, in the south-east of China. I am writing because I saw your shop at the Auckland Outdoor Expo and I think our products could fit your range very well.

Our company was founded in 2009. We have two factories with about 260 workers, a sewing workshop for tents and hammocks, and a metal workshop for chairs and tables. We export to 31 countries, mainly Australia, New Zealand, Germany, France and Canada, and we work with several well-known outdoor chains as an OEM supplier.

Our main products are dome tents for two to six people, tunnel tents, folding camp chairs with aluminium or steel frames, parachute hammocks, camping tables and sleeping mats. All tents are tested for a 3,000 mm water column and pass the fire-retardant standard CPAI-84. The chairs carry up to 150 kg and we test every batch.

We can produce under your own brand from 300 pieces per model. This includes your logo on the product, your own colours, your own packaging and barcodes, and a printed manual in English and Maori if you wish. Our designers can also help with new models: last year we developed a lightweight trekking tent together with a customer in Germany, from the first sketch to mass production in four months.

Our prices are competitive because we produce everything ourselves, from cutting the fabric to sewing, assembling, and packing. For example, our best-selling folding chair JL-FC05 costs USD 8.40 FOB Xiamen for 1,000 pieces, and our three-person dome tent Trekker 3P costs USD 24.50 FOB Xiamen for 500 pieces.

Delivery time is usually 30 to 35 days after the deposit. For New Zealand we ship from Xiamen to Auckland in about 18 days, and we can arrange the freight for you or work with your forwarder. We accept T/T with 30% deposit and 70% against a copy of the bill of lading, and for the first order also an L/C at sight.

Quality is very important to us. We have ISO 9001 and BSCI certificates, and every order is inspected before shipment. You are welcome to send your own inspector or to visit our factory; Xiamen has direct flights from Auckland via Sydney.

If you are interested, I would be happy to send you our catalogue and a price list, or some samples of the chairs and tents for testing. I look forward to hearing from you.
""" + sig_jinlu("Ryan Zheng")),
    meta=M("Cold introduction of about 440 words (none of the paragraphs over 80): seed 003 wants the reason for writing in the first two lines and a short first mail: WALL_OF_TEXT 0.5, accept",
           "accept", ["WALL_OF_TEXT"], ["ATTACH_ON_COLD", "GENERIC_GREETING"]))

# 081 -- Six customers in To.
message(81, "visible-recipients-holiday",
    frm=LANBO, to=[("Daan de Vries", "daan@example.nl"), ("Sabine Schmidt", "s.schmidt@example.de"),
                   ("Giulia Bianchi", "giulia@example.it"), ("Carlos Gómez", "carlos.gomez@example.com.mx"),
                   ("Sirkka Virtanen", "sirkka@example.fi"), ("Sarah Nguyen", "sarah@example.com.au")],
    subject="Chinese New Year holiday: our office closes 26 January to 5 February",
    date=rfc_date(2025, 1, 6, 9, 0, 0),
    body=text("""Dear partners,

Our factory and office will close for the Chinese New Year holiday from 26 January to 5 February 2025. Orders confirmed by 10 January will still ship before the holiday; orders after that date will ship from 20 February.

Thank you for your cooperation in 2024. We wish you and your families a happy and healthy Year of the Snake.
""" + sig_lanbo("Amy Xu")),
    meta=M("Holiday notice to six customers of six companies, all visible in To: VISIBLE_RECIPIENTS 4 (customers see each other; use Bcc or a mailing) and, as a customer list, BULK_NO_UNSUBSCRIBE 2: 6, hold (issue 12)",
           "hold", ["VISIBLE_RECIPIENTS", "BULK_NO_UNSUBSCRIBE"], ["ETIQUETTE_DE_FORMAL", "ATTACH_ON_COLD"]))

# 082 -- Precedence: bulk without List-Unsubscribe.
message(82, "bulk-no-unsubscribe",
    frm=("Haina Electronics", "news@example.com"), to=[("Emily Davis", "emily@example.ca")],
    subject="Haina news: Qi2 wireless chargers now certified",
    date=rfc_date(2024, 12, 10, 9, 0, 0),
    extra=["Precedence: bulk"],
    mailer="Haina Mailer 2.1",
    body=text("""Dear Emily,

Our Qi2 wireless chargers (HN-WC15, 15 W, magnetic) received their certification last week and are now in stock. Wholesale price from USD 9.90 for 200 pieces.

Details: https://www.example.com/c/wireless

Best regards,
Lily Zhang
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Newsletter sent with 'Precedence: bulk' but no List-Unsubscribe header (Gmail/Yahoo bulk-sender rules): BULK_NO_UNSUBSCRIBE 2, accept",
           "accept", ["BULK_NO_UNSUBSCRIBE"], ["VISIBLE_RECIPIENTS", "LINK_HEAVY"]))

# 083 -- Macro workbook.
message(83, "order-form-xlsm",
    frm=HENGDA, to=[("Olivia Harris", "olivia@example.co.uk")],
    subject="Re: Order form for the spring phone cases",
    date=rfc_date(2025, 2, 12, 16, 0, 0),
    in_reply_to=mid("LO6P265MB.harris", "example.co.uk"),
    body=multipart("mixed",
        text("""Hi Olivia,

Here is our order form for the spring collection. Please enable macros when you open it: the form calculates the carton count and the price tier for you automatically.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
        attachment("Hengda_order_form_spring2025.xlsm", make_xlsx([
            ["Model", "Colour", "Qty", "Unit USD"], ["iPhone 16 clear", "Clear", 0, 0.95]], macro=True),
            "application/vnd.ms-excel.sheet.macroEnabled.12")),
    meta=M("Order form as a macro-enabled .xlsm (and the mail even asks to enable macros): ATTACH_EXECUTABLE, always refused",
           "reject", ["ATTACH_EXECUTABLE"], ["ATTACH_ON_COLD", "ATTACH_ARCHIVE"]))

# 084 -- Zip with an .exe inside.
message(84, "zip-with-exe-inside",
    frm=HAINA_KW, to=[("Daan de Vries", "daan@example.nl")],
    subject="Re: LED controller software for the RGB strips",
    date=rfc_date(2024, 8, 27, 10, 0, 0),
    in_reply_to=mid("AM9PR07MB7301.daan", "example.nl"),
    body=multipart("mixed",
        text("""Dear Daan,

The PC software for the RGB strip controller is in the attached zip, together with a short readme. Unzip it and run the setup.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
        attachment("HN-RGB-Controller-v1.4.zip", make_zip([
            ("HN-RGB-Controller-v1.4/Setup.exe", make_exe("HN RGB controller setup (corpus stub)")),
            ("HN-RGB-Controller-v1.4/readme.txt", b"Run Setup.exe, connect the controller by USB, choose COM port.\r\n")]),
            "application/zip")),
    meta=M("Zip whose central directory lists Setup.exe: ATTACH_ARCHIVE 1.5, and the executable inside makes ATTACH_EXECUTABLE refuse it",
           "reject", ["ATTACH_EXECUTABLE", "ATTACH_ARCHIVE"], ["ATTACH_ON_COLD"]))

# 085 -- Attachment over 10 MB.
message(85, "large-attachment",
    frm=JINLU_VL, to=[("Anna Lindqvist", "anna@example.se")],
    subject="Re: Print files for the custom tent bags",
    date=rfc_date(2024, 5, 8, 14, 0, 0),
    in_reply_to=mid("HE1P190MB.lindqvist.2", "example.se"),
    body=multipart("mixed",
        text("""Dear Anna,

Here is the print proof for your custom tent bags as a high-resolution PDF. Please check the logo position and the Pantone colours and confirm, then we start printing.

Regards,
Vivian Lin
Xiamen Jinlu Outdoor Products Co., Ltd."""),
        attachment("Tent_bag_print_proof_hires.pdf", make_pdf([
            "Print proof - tent bag 62 x 22 cm - logo Pantone 7741 C"], pad=11 * 1024 * 1024),
            "application/pdf")),
    meta=M("Print proof PDF of 11 MiB (about 15 MB encoded) on a reply: ATTACH_LARGE 3 (many servers refuse it; send a download link), accept",
           "accept", ["ATTACH_LARGE"], ["ATTACH_ON_COLD", "ATTACH_ARCHIVE"]))

# 086 -- Catalogue attached to a first contact.
message(86, "attach-on-cold-catalogue",
    frm=HAINA, to=[("Jonas Weber", "j.weber@example.ch")],
    subject="USB-C chargers and power banks for Weber Elektronik",
    date=rfc_date(2024, 3, 5, 9, 30, 0),
    body=multipart("mixed",
        text("""Dear Mr. Weber,

I saw on your website that you sell phone accessories in Zurich and Basel. We are a manufacturer of GaN chargers, USB-C cables and power banks in Shenzhen, with CE and RoHS certificates.

I attach our short catalogue with prices for 100 to 1,000 pieces. If something fits your range, I would be glad to send samples.
""" + sig_haina("Lily Zhang", "Sales Manager")),
        attachment("Haina_Catalogue_2024_short.pdf", make_pdf([
            "Shenzhen Haina Electronics - short catalogue 2024",
            "GaN chargers 20-140W, USB-C cables, power banks 5000-20000 mAh"]), "application/pdf")),
    meta=M("First contact with a PDF catalogue attached: ATTACH_ON_COLD 2 for this recipient (strangers' attachments look like malware; link it instead); message score 0, accept",
           "accept", ["ATTACH_ON_COLD"], ["BODY_ATTACHMENT_ONLY", "ETIQUETTE_DE_FORMAL", "READ_RECEIPT_COLD"]))

# 087 -- From 163.com.
message(87, "freemail-163-sender",
    frm=("Lily Zhang", "haina_lily@163.com"), to=[("Marco Rossi", "m.rossi@example.it")],
    subject="Re: Bluetooth speakers for your shop in Milan",
    date=rfc_date(2024, 6, 20, 9, 0, 0),
    in_reply_to=mid("CAJ7-rossi-speakers", "example.it"),
    mailer="NetEase Mail Master 5.3",
    body=text("""Dear Mr. Rossi,

Thank you for your reply. The HN-BS07 speaker is available in black, blue and red; for 300 pieces the price is USD 6.90 each, FOB Shenzhen, with your logo printed on the grille.

I am writing from my personal mailbox today because our company server is being moved.

Best regards,
Lily Zhang
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Sales reply sent from a personal 163.com mailbox: FREEMAIL_SENDER 2 (often spam-foldered abroad), accept",
           "accept", ["FREEMAIL_SENDER"], ["ATTACH_ON_COLD", "READ_RECEIPT_COLD"]))

# 088 -- Read receipt on a cold message.
message(88, "read-receipt-cold",
    frm=LANBO, to=[("Giulia Bianchi", "giulia@example.it")],
    subject="Tri-ply cookware from Ningbo for your kitchen shop",
    date=rfc_date(2024, 1, 22, 9, 30, 0),
    extra=["Disposition-Notification-To: amy.xu@example.org"],
    body=text("""Gentile Sig.ra Bianchi,

I am Amy from Ningbo Lanbo Kitchenware. We make tri-ply stainless steel pans and pots for kitchen shops in Italy and Spain, induction-ready and with a 10-year warranty.

May I send you our price list?
""" + sig_lanbo("Amy Xu")),
    meta=M("Cold first contact asking for a read receipt: READ_RECEIPT_COLD strips the Disposition-Notification-To header for this recipient (no score), accept",
           "accept", ["READ_RECEIPT_COLD"], ["ATTACH_ON_COLD", "FREEMAIL_SENDER"]))

# 089 -- Return-Receipt-To, 126.com, attachment on cold.
message(89, "cold-126-receipt-attachment",
    frm=("Ryan Zheng", "jinlu_sales@126.com"), to=[("Lars Hansen", "lars@example.dk")],
    subject="Camping chairs and tents from Xiamen factory",
    date=rfc_date(2024, 2, 26, 10, 0, 0),
    extra=["Return-Receipt-To: jinlu_sales@126.com", "X-Confirm-Reading-To: jinlu_sales@126.com"],
    mailer="NetEase Mail Master 5.3",
    body=multipart("mixed",
        text("""Dear Mr. Hansen,

We are a factory of camping chairs, tents and hammocks in Xiamen, China, and we already supply two outdoor shops in Denmark. Please find our price list attached.

Looking forward to your reply.

Ryan Zheng
Xiamen Jinlu Outdoor Products Co., Ltd."""),
        attachment("Jinlu_price_list_2024.pdf", make_pdf([
            "Jinlu Outdoor price list 2024", "JL-FC05 folding chair USD 8.40", "Trekker 3P USD 24.50"]), "application/pdf")),
    meta=M("Cold offer from a 126.com mailbox with Return-Receipt-To and X-Confirm-Reading-To and a PDF: FREEMAIL_SENDER 2 (message), ATTACH_ON_COLD 2 and READ_RECEIPT_COLD strip (recipient): 2 (4 for the recipient) < 6, accept",
           "accept", ["FREEMAIL_SENDER", "READ_RECEIPT_COLD", "ATTACH_ON_COLD"], ["BODY_ATTACHMENT_ONLY"]))

# 090 -- Answering a marketplace no-reply address.
message(90, "rcpt-no-reply",
    frm=HENGDA, to=["no-reply@example.co.uk"], cc=[("Olivia Harris", "olivia@example.co.uk")],
    subject="Re: New order HD-6544 received",
    date=rfc_date(2024, 9, 11, 10, 0, 0),
    in_reply_to=mid("order-HD-6544.notify", "example.co.uk"),
    body=text("""Dear Olivia,

Thank you for your order HD-6544 (300 phone cases). We will ship it on 16 September and send you the tracking number the same day.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Reply-all to the shop platform's order notification: no-reply@ is refused (RCPT_NO_REPLY, 550 5.1.1), the buyer in Cc still gets it; message accept",
           "accept", ["RCPT_NO_REPLY"], ["RCPT_TYPO", "RCPT_DISPOSABLE"],
           rcpt_verdicts={"no-reply@example.co.uk": "reject", "olivia@example.co.uk": "accept"}))

# 091 -- gmial.com typo.
message(91, "rcpt-typo-gmial",
    frm=HENGDA, to=[("Sarah Miller", "sarah.miller1987@gmial.com")],
    subject="Your party supplies order HD-5302 has shipped",
    date=rfc_date(2024, 4, 12, 8, 0, 0),
    body=text("""Hi Sarah,

Your balloon garlands, confetti and banners left Yiwu today. Tracking number: LP00612345678901 (China Post + USPS). Delivery to Denver in about 10 days.

Cindy Wang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Shipping notice typed to gmial.com instead of gmail.com: RCPT_TYPO refuses the recipient with 'did you mean gmail.com?'; message accept",
           "accept", ["RCPT_TYPO"], ["RCPT_DISPOSABLE", "RCPT_NO_REPLY"],
           rcpt_verdicts={"sarah.miller1987@gmial.com": "reject"}))

# 092 -- Throwaway buyer address.
message(92, "rcpt-disposable",
    frm=HAINA_KW, to=["mike.j.2291@mailinator.com"],
    subject="Re: Sample request HN-GaN65",
    date=rfc_date(2024, 10, 14, 9, 0, 0),
    in_reply_to=mid("mailinator-msg-2291", "mailinator.com"),
    body=text("""Hello Mike,

Thank you for your interest. We can send one HN-GaN65 sample; the sample fee is USD 25 including express shipping, refundable with your first order of 200 pieces. Please send us your company name and delivery address.

Best regards,
Kevin Wu
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("Sample request from a throwaway mailinator.com address: RCPT_DISPOSABLE holds that recipient's copy for review; message accept",
           "accept", ["RCPT_DISPOSABLE"], ["RCPT_TYPO", "RCPT_NO_REPLY"],
           rcpt_verdicts={"mike.j.2291@mailinator.com": "hold"}))

# 093 -- "Hi Jonas" to Germany.
message(93, "de-informal-hi",
    frm=HAINA_GC, to=[("Jonas Becker", "jonas.becker@example.de")],
    subject="Re: Quote for 1,000 USB-C cables",
    date=rfc_date(2024, 6, 6, 10, 0, 0),
    in_reply_to=mid("FR2P281MB.jbecker", "example.de"),
    body=text("""Hi Jonas,

Thanks for your message. For 1,000 braided USB-C cables (1 m, 60 W) the price is USD 1.98 per piece, FOB Shenzhen, delivery in 12 days.

Best regards,
Grace Chen
Shenzhen Haina Electronics Co., Ltd."""),
    meta=M("English reply to a German buyer opened with 'Hi Jonas': ETIQUETTE_DE_FORMAL 0.5 (advice only; German business mail expects 'Dear Mr. Becker'), accept",
           "accept", ["ETIQUETTE_DE_FORMAL"], ["GENERIC_GREETING"]))

# 094 -- "Hallo Markus" to Austria.
message(94, "at-informal-hallo",
    frm=JINLU, to=[("Markus Gruber", "m.gruber@example.at")],
    subject="Hängematten JL-HM02: neue Farben",
    date=rfc_date(2025, 1, 27, 9, 0, 0),
    body=text("""Hallo Markus,

ab Februar gibt es die Hängematte JL-HM02 auch in Olivgrün und Sand. Preis und Lieferzeit bleiben gleich.

Viele Grüße
Ryan Zheng
Xiamen Jinlu Outdoor Products Co., Ltd.""", charset="iso-8859-1", cte="quoted-printable"),
    meta=M("German note to an Austrian buyer opened with 'Hallo Markus' (first name, informal): ETIQUETTE_DE_FORMAL 0.5, accept",
           "accept", ["ETIQUETTE_DE_FORMAL"], ["MOJIBAKE", "SUBJECT_EXCLAMATION"]))

# 095 -- "Dear Tanaka" to Japan.
message(95, "jp-bare-surname",
    frm=HAINA, to=[("Kenichi Tanaka", "tanaka@example.co.jp")],
    subject="Re: Power bank order for the autumn season",
    date=rfc_date(2024, 8, 28, 10, 0, 0),
    in_reply_to=mid("TYAPR01MB.tanaka", "example.co.jp"),
    body=text("""Dear Tanaka,

Thank you for the new order of 500 power banks HN-PB10 in white. Production starts on 2 September and the goods will be in Tokyo by 25 September.
""" + sig_haina("Lily Zhang", "Sales Manager")),
    meta=M("English reply to a Japanese buyer greeted with the bare surname 'Dear Tanaka': ETIQUETTE_JP_HONORIFIC 0.5 (use 'Tanaka-san' or 'Mr. Tanaka'), accept",
           "accept", ["ETIQUETTE_JP_HONORIFIC"], ["GENERIC_GREETING", "WRONG_LANGUAGE"]))

# 096 -- Red payment reminder to Saudi Arabia.
message(96, "red-payment-reminder-sa",
    frm=("Sunny Liu", "sales@example.net"), to=[("Ahmed Al-Harbi", "a.alharbi@example.sa")],
    subject="Payment reminder: invoice CW-24-0131 for 20 chest freezers",
    date=rfc_date(2024, 3, 3, 9, 0, 0, "+0800"),
    body=alternative(
        text("""Dear Mr. Al-Harbi,

This is a reminder that invoice CW-24-0131 (20 chest freezers CW-BD300) is due:

Balance due: USD 3,332.00 (70% of USD 4,760.00)

The goods are ready for loading. Once we receive the balance we will release the B/L.

Best regards,
Sunny Liu
Harbin Coolwell Appliances Co., Ltd."""),
        html("""<p>Dear Mr. Al-Harbi,</p>
<p>This is a reminder that invoice CW-24-0131 (20 chest freezers CW-BD300) is due:</p>
<p><font color="red" size="4"><b>Balance due: USD 3,332.00</b></font> (70% of USD 4,760.00)</p>
<p>The goods are ready for loading. Once we receive the balance we will release the B/L.</p>
<p>Best regards,<br>Sunny Liu<br>Harbin Coolwell Appliances Co., Ltd.</p>""")),
    meta=M("Payment reminder to a Saudi buyer with the amount due in red (<font color=red>): ETIQUETTE_RED_PAYMENT 0.5 (red reads as hostile there), accept",
           "accept", ["ETIQUETTE_RED_PAYMENT"], ["SUBJECT_SPAM_PHRASE"]))

# 097 -- Everything wrong: reject.
message(97, "spam-promo-reject",
    frm=("Hengda Best Price", "hengda-cindy@foxmail.com"), to=[("Purchasing", "purchasing@example.com.au")],
    subject="★★ FREE GIFT!!! WINNER - ACT NOW ★★ 💰",
    date=rfc_date(2024, 11, 28, 2, 0, 0),
    extra=["Precedence: bulk"],
    mailer="Foxmail 7.2.25.375",
    body=text("""Dear Purchasing Manager,

We are the cheap factory for phone cases, 100% guaranteed quality! Limited time: every order over 500 pcs gets a free gift. Click here to get our price list now: https://www.example.net/best-price

Cindy
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Everything a seed article warns against: SUBJECT_EXCLAMATION 3 + SUBJECT_EMOJI 2 + SUBJECT_SYMBOLS 1.5 + SUBJECT_ALL_CAPS 2 + SUBJECT_SPAM_PHRASE 3 (free, winner, act now) + FREEMAIL_SENDER 2 + BODY_SPAM_PHRASE 2 (max) + BULK_NO_UNSUBSCRIBE 2 = 17.5 >= 12, reject",
           "reject", ["SUBJECT_EXCLAMATION", "SUBJECT_EMOJI", "SUBJECT_SYMBOLS", "SUBJECT_ALL_CAPS", "SUBJECT_SPAM_PHRASE",
                      "FREEMAIL_SENDER", "BODY_SPAM_PHRASE", "BULK_NO_UNSUBSCRIBE"], ["ATTACH_ON_COLD"], body_spam=5))


# 098 -- "Dear friend" on a cold offer.
message(98, "generic-dear-friend",
    frm=HENGDA_LH, to=[("Ikram Benali", "ikram@example.ma")],
    subject="Yoga mats and resistance bands for your fitness shop",
    date=rfc_date(2024, 5, 27, 9, 0, 0),
    body=text("""Dear friend,

We are a sports goods supplier in Yiwu. Our TPE yoga mats (6 mm, 8 colours) cost USD 4.20 and our latex resistance band sets USD 2.80 for 200 pieces or more, shipped to Casablanca in about 30 days.

Would you like to receive samples?

Leo Huang
Yiwu Hengda Import & Export Co., Ltd."""),
    meta=M("Cold offer opened with 'Dear friend' instead of the buyer's name (seed 002: greet by name): GENERIC_GREETING 1, accept",
           "accept", ["GENERIC_GREETING"], ["TEMPLATE_PLACEHOLDER", "ATTACH_ON_COLD"]))

# ---- end of messages ----


# ---------------------------------------------------------------------------
# Self-checks and output
# ---------------------------------------------------------------------------

CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50\u2B55]")


def decoded_parts(raw):
    msg = message_from_bytes(raw, policy=email_policy.default)
    texts, atts = [], []
    for part in msg.walk():
        if part.is_multipart():
            continue
        if part.get_content_disposition() == "attachment" or part.get_filename():
            atts.append((part.get_filename(), len(part.get_payload(decode=True))))
        elif part.get_content_maintype() == "text":
            texts.append((part.get_content_subtype(), part.get_content()))
    return msg, texts, atts


def subject_weight(rule, subject):
    if rule == "SUBJECT_EXCLAMATION":
        n = subject.count("!") + subject.count("！")
        return 3 if n >= 2 else 1.5
    if rule == "SUBJECT_SPAM_PHRASE":
        low = subject.lower()
        n = sum(1 for p in SUBJECT_SPAM if re.search(r"(?<![a-z])" + re.escape(p) + r"(?![a-z])", low))
        return min(n, 3)
    raise KeyError(rule)


def check(m):
    meta, subj, num = m["meta"], m["subject"] or "", m["num"]
    hits, nots = set(meta["hits"]), set(meta["not_hits"])
    where = f"{num:03d}-{m['slug']}"
    assert not hits & nots, where
    for r in hits | nots:
        assert r in MESSAGE_WEIGHTS or r in RECIPIENT_WEIGHTS, (where, r)
    msg, texts, atts = decoded_parts(m["raw"])
    dec_subject = str(msg["subject"] or "")
    assert dec_subject == subj, (where, dec_subject, subj)
    letters = [c for c in subj if c.isalpha() and c.isascii()]
    caps = len(letters) >= 8 and sum(c.isupper() for c in letters) / len(letters) >= 0.7
    n_excl = subj.count("!") + subj.count("！")
    facts = {
        "SUBJECT_MISSING": not subj.strip(),
        "SUBJECT_EXCLAMATION": n_excl > 0,
        "SUBJECT_EMOJI": bool(EMOJI.search(subj)),
        "SUBJECT_ALL_CAPS": caps,
        "SUBJECT_TOO_LONG": len(subj) > 78,
        "SUBJECT_SPAM_PHRASE": subject_weight("SUBJECT_SPAM_PHRASE", subj) > 0,
    }
    for rule, fired in facts.items():
        if rule in hits:
            assert fired, (where, rule, subj)
        if rule in nots:
            assert not fired, (where, rule, subj)
    for rule in ("SUBJECT_ALL_CAPS", "SUBJECT_EXCLAMATION", "SUBJECT_TOO_LONG", "SUBJECT_MISSING", "SUBJECT_SPAM_PHRASE"):
        if facts[rule]:
            assert rule in hits, (where, rule, "fires but is not listed")
    if atts and not m["reply"]:
        assert "ATTACH_ON_COLD" in hits, (where, "cold message with attachment")
    if atts and m["reply"]:
        assert "ATTACH_ON_COLD" not in hits, where
    rr = any(h.split(":")[0].lower() in ("disposition-notification-to", "return-receipt-to",
                                         "x-confirm-reading-to", "read-receipt-to") for h in m["extra"])
    if rr:
        assert ("READ_RECEIPT_COLD" in hits) == (not m["reply"]), where
    # Paragraph and length facts behind WALL_OF_TEXT, from the first text/plain part.
    plain = next((t for st, t in texts if st == "plain"), "").replace("\r\n", "\n")
    paras = [len(p.split()) for p in re.split(r"\n\s*\n", plain)]
    long_para = max(paras or [0]) > 150
    long_cold = (not m["reply"]) and len(plain.split()) > 400
    if "WALL_OF_TEXT" in hits:
        assert long_para or long_cold, (where, paras)
    else:
        assert not (long_para or long_cold), (where, "WALL_OF_TEXT would fire", paras)
    # CJK share behind WRONG_LANGUAGE: a recipient outside the Chinese-speaking ccTLDs.
    rcpts = [(x if isinstance(x, str) else x[1]) for x in list(m["to"]) + list(m["cc"])]
    foreign = [r for r in rcpts if not re.search(r"\.(cn|tw|hk|mo)$", r)
               and not r.endswith(".jp")]
    n_cjk = len(CJK.findall(" ".join(t for _, t in texts if _ == "plain")))
    if "WRONG_LANGUAGE" not in hits and foreign:
        assert n_cjk < 20, (where, "WRONG_LANGUAGE would fire", n_cjk)
    # Expected message-level verdict from the default weights.
    score = 0.0
    for r in hits:
        if r in RECIPIENT_WEIGHTS:
            continue
        w = MESSAGE_WEIGHTS[r]
        if r in ("SUBJECT_EXCLAMATION", "SUBJECT_SPAM_PHRASE"):
            w = subject_weight(r, subj)
        elif r == "BODY_SPAM_PHRASE":
            w = min(0.5 * meta["_body_spam"], 2)
        score += w
    if "ATTACH_EXECUTABLE" in hits:
        expect = "reject"
    elif "TEMPLATE_PLACEHOLDER" in hits:
        assert score < REJECT_AT, where
        expect = "hold"
    else:
        expect = "reject" if score >= REJECT_AT else "hold" if score >= HOLD_AT else "accept"
    assert meta["verdict"] == expect, (where, meta["verdict"], expect, score)
    m["score"] = score
    # Good mail must not carry spam phrases by accident.
    if not hits:
        body = " ".join(t for _, t in texts).lower()
        for p in ("click here", "act now", "limited time", "winner", "cheap", "urgent",
                  "guaranteed", "dear customer", "dear sir", "dear friend"):
            assert not re.search(r"\b" + p + r"\b", body), (where, p)
        assert not re.search(r"(?<!feel )\bfree\b", body), (where, "free")


def main():
    seen = set()
    for m in MESSAGES:
        assert m["num"] not in seen, m["num"]
        seen.add(m["num"])
        check(m)
    uncovered = []
    for rule in MUST_COVER:
        fired = [m for m in MESSAGES if rule in m["meta"]["hits"]]
        missed = [m for m in MESSAGES if rule in m["meta"]["not_hits"]]
        if not (fired and missed):
            uncovered.append(f"{rule} (fires {len(fired)}, near misses {len(missed)})")
    for old in os.listdir(HERE):
        if re.match(r"^\d{3}-.*\.(eml|json)$", old):
            os.remove(os.path.join(HERE, old))
    for m in MESSAGES:
        base = os.path.join(HERE, f"{m['num']:03d}-{m['slug']}")
        with open(base + ".eml", "wb") as f:
            f.write(m["raw"])
        meta = {k: v for k, v in m["meta"].items() if not k.startswith("_")}
        with open(base + ".json", "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=False, indent=1)
            f.write("\n")
    write_readme()
    counts = {}
    for m in MESSAGES:
        v = m["meta"]["verdict"]
        key = "accept (no hits)" if v == "accept" and not m["meta"]["hits"] else v
        counts[key] = counts.get(key, 0) + 1
    print(f"{len(MESSAGES)} messages:", counts)
    if uncovered:
        print("NOT COVERED:", "; ".join(uncovered), file=sys.stderr)
        sys.exit(1)


README_HEAD = """# The sendwell policy corpus

Realistic mail a cross-border seller (most often a Chinese exporter writing to buyers abroad)
sends: inquiry answers, quotes, proforma invoices, shipping/delay/customs notices, complaint
answers, refunds, payment reminders, follow-ups, review requests, newsletters. English,
German, Japanese, Spanish, French, Portuguese, Italian and Chinese; replies in threads and cold
first contacts; charsets UTF-8, ISO-8859-1, ISO-2022-JP, GBK and Big5; quoted-printable,
base64, 7bit and 8bit bodies; RFC 2047 subjects and names; small but real attachments (PDFs
with a correct xref table, PNGs, zips written by Python's `zipfile` whose central directory
lists the names inside, OOXML files, a harmless DOS stub standing in for an `.exe`).

Every file is generated by `make_corpus.py` (run it with Python 3.11+; it rewrites all
`NNN-*.eml`/`NNN-*.json` and this README, and checks the expectations against the default
weights before writing). Edit the script, not the files. All companies use reserved
`example.*` domains; the country of a recipient comes from the ccTLD (`example.de` → DE,
`example.co.jp` → JP, `example.sa` → SA, `example.cn` → CN, `example.com.tw` → TW).
Real provider names appear only where a rule is about them (`163.com`/`qq.com`/`126.com`/
`foxmail.com` senders, `gmial.com`/`hotmial.com` typos, `mailinator.com`, `gmail.com` and
`protonmail.com` as near misses).

## Format

Each `NNN-short-name.eml` (CRLF line endings) has a `NNN-short-name.json`:

```json
{"description": "one line: what this is and why this verdict",
 "rcpt": ["buyer@example.de"],
 "verdict": "accept|hold|reject",
 "hits": ["RULE_ID"],
 "not_hits": ["RULE_ID"],
 "rcpt_verdicts": {"buyer@example.de": "hold"}}
```

- `rcpt` (optional): the envelope recipients; when absent, the To and Cc addresses.
- `verdict`: the **message-level** verdict from the message rules only, with the default
  weights of RULES.md: score >= 12 reject, >= 6 hold, else accept; `ATTACH_EXECUTABLE`
  always rejects, `TEMPLATE_PLACEHOLDER` always holds (no message here combines a placeholder
  with enough other weight to reach 12, so "does a placeholder cap at hold" is not tested).
- `hits`: rule IDs that must fire, message- or recipient-level (for a recipient rule: on at
  least one recipient). Rules not named in `hits` or `not_hits` are unspecified.
- `not_hits`: near misses: rule IDs that must not fire, for the message or any recipient.
- `rcpt_verdicts` (optional): present when a recipient's outcome differs from the message
  verdict: `reject` = that RCPT refused (RCPT_TYPO, RCPT_NO_REPLY), `hold` = that recipient's
  copy held (RCPT_DISPOSABLE, or WRONG_LANGUAGE's weight 6 on top of a message score of 0).
  Recipients not named there get the message verdict.

The corpus assumes no contacts file and no history: "cold" means no In-Reply-To/References.
Recipient rules in this corpus: WRONG_LANGUAGE, ATTACH_ON_COLD, READ_RECEIPT_COLD, RCPT_*,
ETIQUETTE_*. Their weights are kept off the message score; where a recipient's score would
matter (message score + recipient weights) the message is built so both readings agree.

## Coverage

"""


def write_readme():
    lines = [README_HEAD]
    lines.append("| rule | fires in | must not fire in (near misses) |\n|---|---|---|\n")
    for rule in MUST_COVER:
        fired = [f"{m['num']:03d}" for m in MESSAGES if rule in m["meta"]["hits"]]
        missed = [f"{m['num']:03d}" for m in MESSAGES if rule in m["meta"]["not_hits"]]
        lines.append(f"| `{rule}` | {', '.join(fired)} | {', '.join(missed)} |\n")
    lines.append("\n## Messages\n\n| # | file | verdict | score | hits | description |\n"
                 "|---|---|---|---|---|---|\n")
    for m in MESSAGES:
        meta = m["meta"]
        d = meta["description"].replace("|", "\\|")
        lines.append(f"| {m['num']:03d} | `{m['num']:03d}-{m['slug']}.eml` | {meta['verdict']} | "
                     f"{m['score']:g} | {', '.join(meta['hits']) or '—'} | {d} |\n")
    counts = {}
    for m in MESSAGES:
        counts[m["meta"]["verdict"]] = counts.get(m["meta"]["verdict"], 0) + 1
    clean = sum(1 for m in MESSAGES if not m["meta"]["hits"])
    lines.append(f"\n{len(MESSAGES)} messages: {counts.get('accept', 0)} accept "
                 f"({clean} with no hit at all), {counts.get('hold', 0)} hold, "
                 f"{counts.get('reject', 0)} reject. The score column is the message-level "
                 "score from the default weights.\n")
    with open(os.path.join(HERE, "README.md"), "w", encoding="utf-8") as f:
        f.write("".join(lines))


if __name__ == "__main__":
    main()
