"""The server's parsers of what agents send are parsers of untrusted input: whatever the body or
the headers hold, the answer is a message, or a French refusal (MessageError / UserError /
None), never another exception; a valid message survives a round trip; a signature verifies
only the exact agent, tenant, nonce, time and body it was made for."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from officine.errors import UserError
from officine.fleet import message, signing

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
KINDS = st.sampled_from([*message.EVENT_DATA, "autre"])
EVENT = st.fixed_dictionaries(
    {"kind": KINDS, "key": st.text(max_size=130), "at": st.sampled_from(["2026-11-29T10:00:00+00:00", "hier", 3])},
    optional={"data": st.dictionaries(st.text(max_size=12), JSON, max_size=5)},
)
DOCUMENT = st.fixed_dictionaries(
    {
        "format": st.sampled_from([message.FORMAT, "autre"]),
        "version": st.sampled_from([1, 2, "1"]),
        "sequence": st.integers(min_value=-5, max_value=2**63) | st.text(max_size=3),
        "created_at": st.sampled_from(["2026-11-29T10:00:00+00:00", "2026-11-29T10:00:00", ""]),
    },
    optional={
        "snapshot": st.none() | st.dictionaries(st.text(max_size=8), JSON, max_size=3),
        "events": st.lists(EVENT, max_size=4),
    },
)


def read_or_refuse(raw: bytes) -> Any:
    try:
        return message.read(raw)
    except UserError as exc:  # MessageError, or the snapshot's own refusal
        assert exc.message and "Traceback" not in exc.message
        exc.message.encode("utf-8")  # the refusal itself can be sent back
        return None


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_any_bytes_are_a_message_or_a_refusal(raw: bytes) -> None:
    read_or_refuse(raw)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DOCUMENT | JSON)
def test_any_json_is_a_message_or_a_refusal(document: Any) -> None:
    read_or_refuse(json.dumps(document).encode())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["sentinel", "incident", "journal"]), max_size=5), st.integers(0, 2**40))
def test_a_valid_message_round_trips(kinds: list[str], sequence: int) -> None:
    data = {
        "sentinel": {"at": "2026-11-29T10:00:00+00:00", "type": "alarm", "hostname": "poste", "paths": ["a"]},
        "incident": {"incident": "20261129-100000", "seq": 1, "action": "opened", "summary": "rançon"},
        "journal": {"incident": "20261129-100000", "entries": 3, "status": "intact"},
    }
    events = [
        message.Event.model_validate({"kind": k, "key": str(i), "at": "2026-11-29T10:00:00+00:00", "data": data[k]})
        for i, k in enumerate(kinds)
    ]
    built = message.build(sequence, datetime(2026, 11, 29, tzinfo=UTC), None, events)
    parsed, snap = message.read(json.dumps(built).encode())
    assert snap is None and parsed.sequence == sequence and [e.kind for e in parsed.events] == kinds


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([signing.AGENT, signing.TENANT, signing.NONCE, signing.TIMESTAMP, signing.SIGNATURE, "x"]),
        st.text(max_size=100),
    )
)
def test_any_headers_parse_or_are_none(headers: dict[str, str]) -> None:
    parsed = signing.SignedHeaders.parse(headers)
    assert parsed is None or len(parsed.signature) == 64


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 5), st.binary(min_size=1, max_size=3))
def test_a_signature_binds_every_field(body: bytes, which: int, change: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    sent = signing.sign(key, "ag_" + "a" * 24, "0" * 24, body, now=1_800_000_000)
    parsed = signing.SignedHeaders.parse(sent)
    assert parsed is not None and signing.verifies(public, parsed, body)
    fields = [parsed.agent, parsed.tenant, parsed.nonce, str(parsed.timestamp)]
    if which < 4:
        fields[which] = fields[which] + "1"
        altered = signing.SignedHeaders(fields[0], fields[1], fields[2], int(fields[3]), parsed.signature)
        assert not signing.verifies(public, altered, body)
    elif which == 4:
        assert not signing.verifies(public, parsed, body + change)
    else:
        other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
        assert not signing.verifies(other, parsed, body)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=10), st.sampled_from(["\x00", "\ud800", "\udfff"]), st.text(max_size=10))
def test_text_postgresql_cannot_store_is_refused_at_the_door(before: str, bad: str, after: str) -> None:
    """A NUL or a lone surrogate in an event would make its row impossible to write, and stop the
    pharmacy's judgement at every attempt: the message is refused whole instead."""
    event = {
        "kind": "sentinel",
        "key": "1",
        "at": "2026-11-29T10:00:00+00:00",
        "data": {"at": "2026-11-29T10:00:00+00:00", "type": before + bad + after, "hostname": "poste"},
    }
    document = {"format": message.FORMAT, "version": 1, "sequence": 1, "created_at": "2026-11-29T10:00:00+00:00"}
    raw = json.dumps({**document, "events": [event]}).encode()
    try:
        message.read(raw)
    except message.MessageError as exc:
        exc.message.encode("utf-8")  # the refusal itself can be sent back
    else:
        raise AssertionError("accepted")
