"""How snapshot documents are kept in the database: compressed, with large outputs stored once.

A workstation's package database alone is about 680 kB and rarely changes between two audits;
stored in every snapshot it would cost tens of gigabytes a year for a pharmacy audited often.
Observation outputs of 4 kB or more go to a content-addressed table (SHA-256 of the text,
zlib-compressed) and the document keeps their hash; the rest of the document is compressed.
unpack() gives back exactly the document that was packed (the snapshot's seal proves it)."""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Mapping
from typing import Any

BLOB_MIN_CHARS = 4096
BLOB_KEY = "output_sha256"  # never an Observation field, so it cannot clash


class PackingError(Exception):
    """A stored document that cannot be rebuilt (damaged data, missing blob)."""


def pack(document: Mapping[str, Any]) -> tuple[bytes, dict[str, bytes]]:
    """The compressed document and the compressed large outputs it refers to, by SHA-256."""
    blobs: dict[str, bytes] = {}
    observations = []
    for obs in document.get("observations", []):
        output = obs.get("output")
        if isinstance(output, str) and len(output) >= BLOB_MIN_CHARS:
            raw = output.encode("utf-8")
            sha = hashlib.sha256(raw).hexdigest()
            blobs.setdefault(sha, zlib.compress(raw, 6))
            observations.append({**{k: v for k, v in obs.items() if k != "output"}, BLOB_KEY: sha})
        else:
            observations.append(obs)
    body = {**document, "observations": observations} if "observations" in document else dict(document)
    return zlib.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"), 6), blobs


def blob_refs(packed: bytes) -> set[str]:
    return {o[BLOB_KEY] for o in _load(packed).get("observations", []) if BLOB_KEY in o}


def unpack(packed: bytes, blobs: Mapping[str, bytes]) -> dict[str, Any]:
    body = _load(packed)
    observations = []
    for obs in body.get("observations", []):
        if BLOB_KEY not in obs:
            observations.append(obs)
            continue
        sha = obs[BLOB_KEY]
        if sha not in blobs:
            raise PackingError(f"sortie {sha[:12]}… absente de la base")
        try:
            text = zlib.decompress(blobs[sha]).decode("utf-8")
        except (zlib.error, UnicodeDecodeError) as exc:
            raise PackingError(f"sortie {sha[:12]}… illisible") from exc
        observations.append({**{k: v for k, v in obs.items() if k != BLOB_KEY}, "output": text})
    if "observations" in body:
        body["observations"] = observations
    return body


def _load(packed: bytes) -> dict[str, Any]:
    try:
        body = json.loads(zlib.decompress(packed).decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackingError("document illisible") from exc
    if not isinstance(body, dict):
        raise PackingError("document inattendu")
    return body
