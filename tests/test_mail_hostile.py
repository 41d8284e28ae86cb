"""Hostile messages: the MIME parsing fuzzed with hypothesis, and the worst inputs (50 MB
messages, bombs, thousands of parts, deep nesting, broken encodings) analysed in a separate
process under memory and time limits, each ending with a verdict or a French refusal."""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hostile import english_in, officine_bounded
from mail_corpus import message, zip_of
from officine.errors import UserError
from officine.mail.analyse import MailSettings, analyse_bytes

CORPUS = Path(__file__).parent / "fixtures/mail/corpus"
SAMPLES = sorted((CORPUS / "ecrit").glob("*.eml"))[:12] + sorted((CORPUS / "spamassassin").glob("*.eml"))[:4]
SERVER = "mx.pharmacie-des-tilleuls.fr"


def _analyse(data: bytes) -> None:
    try:
        result = analyse_bytes(data, MailSettings(SERVER))
    except UserError as exc:
        assert exc.message and not english_in(exc.message)
        return
    assert result.verdict in ("dangereux", "suspect", "rien_d_anormal")
    assert all(r.text for r in result.reasons)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_give_a_verdict_or_a_french_refusal(data: bytes) -> None:
    _analyse(data)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(min_value=0), st.binary(min_size=0, max_size=40)), min_size=1, max_size=8),
    st.integers(min_value=0),
)
def test_damaged_real_messages_never_crash(path: Path, edits: list[tuple[int, bytes]], cut: int) -> None:
    data = bytearray(path.read_bytes())
    for offset, replacement in edits:
        at = offset % (len(data) + 1)
        data[at : at + len(replacement)] = replacement
    _analyse(bytes(data[: max(1, cut % (len(data) + 1))]) if cut % 3 == 0 else bytes(data))


HEADER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=200)
ENCODED_WORD = st.builds(
    lambda charset, enc, body: f"=?{charset}?{enc}?{body}?=",
    st.sampled_from(["utf-8", "iso-8859-1", "x-inconnu", "utf-7", "", "koi8-r"]),
    st.sampled_from(["B", "Q", "b", "X", ""]),
    st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=60),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(HEADER_TEXT, ENCODED_WORD),
    st.one_of(HEADER_TEXT, ENCODED_WORD),
    st.sampled_from(["base64", "quoted-printable", "7bit", "8bit", "x-uuencode", "binary", "b@se64"]),
    st.sampled_from(["utf-8", "iso-8859-15", "x-nimportequoi", "utf-16", "", "us-ascii\x00"]),
    st.sampled_from(
        ["text/plain", "text/html", "application/pdf", "application/zip", "message/rfc822", "multipart/mixed", "x/y"]
    ),
    st.binary(max_size=2000),
)
def test_generated_mime_with_broken_headers_encodings_and_charsets(
    sender: str, subject: str, encoding: str, charset: str, ctype: str, body: bytes
) -> None:
    head = (
        f"From: {sender}\r\nReply-To: {subject}\r\nSubject: {subject}\r\n"
        f"Authentication-Results: {SERVER}; {subject}\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
        f"Content-Type: {ctype}; charset={charset}; name={subject}\r\nContent-Transfer-Encoding: {encoding}\r\n"
        f"Content-Disposition: attachment; filename*=utf-8''{subject}\r\n\r\n"
    )
    _analyse(head.encode("utf-8", "surrogateescape") + body + b"\r\n--b--\r\n")


# -- the worst inputs, each in its own process under limits ------------------------------------


def _bounded(path: Path, memory_mb: int = 1024, cpu_s: int = 60) -> tuple[int, str, str]:
    r = officine_bounded("courriel", "analyser", str(path), "--json", memory_mb=memory_mb, cpu_s=cpu_s, wall_s=120)
    assert not r.killed, f"killed by a limit after {r.seconds:.1f} s: {r.stderr[-500:]}"
    assert "Traceback" not in r.stderr and "Erreur interne" not in r.stderr, r.stderr[-2000:]
    if r.returncode == 2:
        assert r.stderr.startswith("Erreur") and not english_in(r.stderr), r.stderr
    else:
        assert r.returncode == 0, r.stderr[-2000:]
    return r.returncode, r.stdout, r.stderr


def _multipart(parts: list[bytes], boundary: str = "b") -> bytes:
    head = f'From: x@exemple.fr\r\nSubject: t\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
    body = b"".join(f"--{boundary}\r\n".encode() + p + b"\r\n" for p in parts)
    return head.encode() + body + f"--{boundary}--\r\n".encode()


def test_a_50_mb_message_is_analysed_within_bounds(tmp_path: Path) -> None:
    big = tmp_path / "gros.eml"
    big.write_bytes(
        message(
            '"x" <x@exemple.fr>',
            "gros",
            text="Bonjour " * 200_000,
            attachments=[("gros.bin", os.urandom(36 << 20), "application/octet-stream")],
        )
    )
    assert big.stat().st_size > 50_000_000
    code, out, _ = _bounded(big)
    assert code == 0 and '"verdict"' in out


def test_a_message_over_the_limit_is_refused_in_french(tmp_path: Path) -> None:
    huge = tmp_path / "enorme.eml"
    with huge.open("wb") as fh:
        fh.write(b"From: x@exemple.fr\r\nSubject: t\r\n\r\n")
        fh.write(b"A" * (70 << 20))
    code, _, err = _bounded(huge)
    assert code == 2 and "trop gros" in err


def test_zip_bombs_nested_archives_and_many_entries(tmp_path: Path) -> None:
    layer = zip_of({"zero.bin": b"\0" * (200 << 20)})  # 200 MB of zeros in about 200 kB
    for level in range(4):
        layer = zip_of({f"couche{level}_{i}.zip": layer for i in range(4)})
    many = zip_of({f"{i}.txt": b"" for i in range(20_000)})
    bomb = tmp_path / "bombe.eml"
    bomb.write_bytes(
        message(
            '"x" <x@exemple.fr>',
            "bombe",
            text="x",
            attachments=[("a.zip", layer, "application/zip"), ("b.zip", many, "application/zip")],
        )
    )
    code, out, _ = _bounded(bomb, memory_mb=768)
    assert code == 0 and "pj_archive_bombe" in out


def test_thousands_of_parts_and_deep_nesting(tmp_path: Path) -> None:
    many = tmp_path / "parties.eml"
    many.write_bytes(_multipart([b"Content-Type: text/plain\r\n\r\nx"] * 20_000))
    code, out, _ = _bounded(many)
    assert code == 0 and "analyse_partielle" in out
    nested = b"Content-Type: text/plain\r\n\r\nfond"
    for level in range(3000):
        nested = (
            f'Content-Type: multipart/mixed; boundary="n{level}"\r\n\r\n--n{level}\r\n'.encode()
            + nested
            + f"\r\n--n{level}--".encode()
        )
    deep = tmp_path / "profond.eml"
    deep.write_bytes(b"From: x@exemple.fr\r\nSubject: t\r\nMIME-Version: 1.0\r\n" + nested)
    code, _, err = _bounded(deep)
    assert code == 2 and "anormale" in err
    tags = tmp_path / "balises.eml"
    tags.write_bytes(
        b"From: x@exemple.fr\r\nSubject: t\r\nContent-Type: text/html\r\n\r\n"
        + b"<div>" * 100_000
        + b"<a href='http://203.0.113.9/'>x</a>"
    )
    code, out, _ = _bounded(tags)
    assert code == 0 and "lien_adresse_ip" in out


@pytest.mark.parametrize(
    "body",
    [
        b"Content-Type: text/plain; charset=x-inexistant\r\nContent-Transfer-Encoding: base64\r\n\r\n!!!pas du base64===\xff\xfe",
        b"Content-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=ZZ=\xc3=\r\n<a href='http://[::1'>x</a>",
        b"Content-Type: application/pdf; name==?utf-8?B?////?=\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + base64.b64encode(b"%PDF-1.4 /JS " + b"stream\n" + b"\x78\x9c" * 5000),
    ],
)
def test_broken_encodings(tmp_path: Path, body: bytes) -> None:
    path = tmp_path / "casse.eml"
    path.write_bytes(_multipart([body]) + b"Subject: " + b"\xff" * 100_000)
    code, out, _ = _bounded(path)
    assert code == 0 and '"verdict"' in out


def test_a_megabyte_header_line_and_a_million_links(tmp_path: Path) -> None:
    html = b"<a href='http://203.0.113.1/'>x</a>" * 60_000
    path = tmp_path / "liens.eml"
    path.write_bytes(
        b"From: " + b"a" * (1 << 20) + b" <x@exemple.fr>\r\nSubject: t\r\nContent-Type: text/html\r\n\r\n" + html
    )
    code, out, _ = _bounded(path)
    assert code == 0 and "lien_adresse_ip" in out


def _corrupt_deflate(archive: bytes, member: str) -> bytes:
    """The archive with `member`'s deflate stream starting with a reserved block type: listing
    works, decompressing raises zlib.error (not a ZIP error), as in a damaged attachment."""
    import struct
    import zipfile

    info = zipfile.ZipFile(io.BytesIO(archive)).getinfo(member)
    name_len, extra_len = struct.unpack_from("<HH", archive, info.header_offset + 26)
    start = info.header_offset + 30 + name_len + extra_len
    return archive[:start] + b"\x07" + archive[start + 1 :]


@pytest.mark.parametrize(
    ("filename", "files", "member", "mime"),
    [
        (  # an Office document whose relationships do not decompress (found by the fuzzer in CI)
            "planning.xlsx",
            {"[Content_Types].xml": b"<Types/>", "_rels/.rels": b"<Relationships>" + b" " * 200 + b"</Relationships>"},
            "_rels/.rels",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("ordonnances.zip", {"scan.pdf": b"%PDF-1.7\n" + b"0" * 500}, "scan.pdf", "application/zip"),
    ],
)
def test_an_attachment_whose_compressed_data_is_damaged_gets_a_verdict(
    filename: str, files: dict[str, bytes], member: str, mime: str
) -> None:
    damaged = _corrupt_deflate(zip_of(files), member)
    mail = message(
        "Paul <paul@example.net>", "Le planning", "Voici le fichier.", attachments=[(filename, damaged, mime)]
    )
    result = analyse_bytes(mail, MailSettings(SERVER))
    assert result.verdict in ("dangereux", "suspect", "rien_d_anormal")
