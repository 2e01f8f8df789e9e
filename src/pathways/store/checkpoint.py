"""Signed checkpoints of every case's chain head, verifiable by an outside auditor.

A checkpoint records, for every case, how many events it had and the hash of its last
one, and signs a digest of that list with the house's Ed25519 private key (kept outside
the database, like the HMAC keys). Each checkpoint also names the one before it, so the
checkpoints form a chain of their own. Afterwards:

* ``audit verify`` proves that no case covered by the last checkpoint was deleted, and that
  no covered event was changed or cut off (its hash at the checkpointed seq must still be
  there), even by someone who could recompute an unkeyed chain;
* :func:`export_checkpoints` writes them as JSON lines; :func:`verify_export` checks such
  a file with only the public key, without any access to the database.

The signature uses `cryptography` (extra ``audit``): ``pip install 'pathways[audit]'``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from .._extras import require
from ..errors import StoreError
from .base import GENESIS, CaseStore

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "CheckpointResult",
    "export_checkpoints",
    "generate_signing_key",
    "heads_digest",
    "load_public_key",
    "load_signing_key",
    "verify_export",
    "write_checkpoint",
]


def _crypto() -> Any:
    """The Ed25519 module of `cryptography`, or :class:`~pathways.errors.MissingExtra`."""
    require("audit", "signed audit checkpoints")
    from cryptography.hazmat.primitives.asymmetric import ed25519

    return ed25519


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def heads_digest(heads: Iterable[tuple[str, int, str]]) -> str:
    """SHA-256 over the sorted ``case id, seq, head hash`` lines a checkpoint covers."""
    h = hashlib.sha256()
    for case_id, seq, head in sorted(heads):
        h.update(f"{case_id}\t{seq}\t{head}\n".encode())
    return h.hexdigest()


def record_hash(record: dict[str, Any]) -> str:
    """What the next checkpoint names as ``prev``: SHA-256 of this one's body and signature."""
    return hashlib.sha256((record["body"] + "\n" + record["signature"]).encode()).hexdigest()


def _fingerprint(public: Ed25519PublicKey) -> str:
    from cryptography.hazmat.primitives import serialization

    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_signing_key(private_path: str | os.PathLike[str], public_path: str | os.PathLike[str]) -> None:
    """Write a new Ed25519 key pair as PEM files; the private one readable by its owner only."""
    from cryptography.hazmat.primitives import serialization

    key = _crypto().Ed25519PrivateKey.generate()
    private = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(private)
    Path(public_path).write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))


def load_signing_key(path: str | os.PathLike[str]) -> Ed25519PrivateKey:
    """Read an Ed25519 private key (PEM) written by :func:`generate_signing_key`."""
    _crypto()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(f"cannot read the signing key {os.fspath(path)!r}: {getattr(exc, 'strerror', None) or 'not a PEM private key'}") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    if not isinstance(key, Ed25519PrivateKey):
        raise StoreError(f"the signing key {os.fspath(path)!r} is not an Ed25519 key")
    return key


def load_public_key(path: str | os.PathLike[str]) -> Ed25519PublicKey:
    """Read an Ed25519 public key (PEM)."""
    _crypto()
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise StoreError(f"cannot read the public key {os.fspath(path)!r}: {getattr(exc, 'strerror', None) or 'not a PEM public key'}") from None
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    if not isinstance(key, Ed25519PublicKey):
        raise StoreError(f"the public key {os.fspath(path)!r} is not an Ed25519 key")
    return key


def write_checkpoint(store: CaseStore, signing_key: Ed25519PrivateKey, *, at: datetime | None = None) -> dict[str, Any]:
    """Sign the current head of every case and store it as the next checkpoint.

    Run it regularly (e.g. nightly) and hand the export to the auditor each time.
    """
    heads = sorted((cid, seq, head) for cid, (seq, head) in store.heads().items())
    earlier = store.checkpoints()
    body = {
        "n": len(earlier) + 1,
        "at": (at or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds"),
        "cases": len(heads),
        "digest": heads_digest(heads),
        "prev": record_hash(earlier[-1]) if earlier else GENESIS,
        "key": _fingerprint(signing_key.public_key()),
    }
    text = _dumps(body)
    record = {"n": body["n"], "body": text, "signature": signing_key.sign(text.encode()).hex()}
    store.add_checkpoint(record, heads)
    return record


def export_checkpoints(store: CaseStore, *, heads: bool = True) -> str:
    """Every checkpoint as JSON lines (with the heads each covers, unless ``heads=False``)."""
    lines = []
    for record in store.checkpoints():
        line: dict[str, Any] = {"body": record["body"], "signature": record["signature"]}
        if heads:
            line["heads"] = [list(h) for h in store.checkpoint_heads(record["n"])]
        lines.append(_dumps(line))
    return "".join(line + "\n" for line in lines)


@attrs.frozen
class CheckpointResult:
    """The outcome of checking checkpoints: how many, the last one's body, the first problem."""

    checkpoints: int
    problem: str | None = None
    last: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_records(records: Sequence[dict[str, Any]], public_key: Ed25519PublicKey | None) -> CheckpointResult:
    """Signatures (when ``public_key`` is given), numbering, the ``prev`` links and each digest.

    ``records`` carry ``body``, ``signature`` and optionally ``heads``.
    """
    _crypto()
    from cryptography.exceptions import InvalidSignature

    prev, last = GENESIS, None
    for i, record in enumerate(records, 1):
        try:
            body = json.loads(record["body"])
        except (KeyError, TypeError, ValueError):
            return CheckpointResult(i - 1, f"checkpoint {i} cannot be read (malformed)")
        if public_key is not None:
            try:
                public_key.verify(bytes.fromhex(record["signature"]), record["body"].encode())
            except (InvalidSignature, ValueError):
                return CheckpointResult(i - 1, f"checkpoint {i}: the signature does not match (forged or altered)")
        if body.get("n") != i:
            return CheckpointResult(i - 1, f"checkpoint {i} is numbered {body.get('n')!r} (a checkpoint was removed or reordered)")
        if body.get("prev") != prev:
            return CheckpointResult(i - 1, f"checkpoint {i} does not follow checkpoint {i - 1} (a checkpoint was removed or replaced)")
        if "heads" in record and record["heads"] is not None:
            heads = [(str(c), int(n), str(h)) for c, n, h in record["heads"]]
            if heads_digest(heads) != body.get("digest") or len(heads) != body.get("cases"):
                return CheckpointResult(i - 1, f"checkpoint {i}: its list of case heads does not match its signed digest")
        prev, last = record_hash(record), body
    return CheckpointResult(len(records), None, last)


def verify_export(text: str, public_key: Ed25519PublicKey) -> CheckpointResult:
    """Check an exported checkpoint file with only the public key (no database needed)."""
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            return CheckpointResult(len(records), f"line {number} is not a checkpoint (malformed JSON)")
    if not records:
        return CheckpointResult(0, "the export holds no checkpoint")
    return check_records(records, public_key)
