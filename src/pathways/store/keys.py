"""The audit keys a house keeps outside its database: HMAC keys for the event chain.

Without a key, each event's ``hash`` is a plain SHA-256 of its content and the previous
hash: it shows accidents, but anyone who can write to the database can recompute the chain
after changing an event. With a key, the ``hash`` is an HMAC-SHA256 under a secret the
database never holds, so a rewritten event cannot be given a valid MAC. Each event names
its ``key_id``; rotating means adding a new key (new events use it) and keeping the old
ones for verifying.

A key file holds one key a line, ``<key id> <secret in hex>``; the last line is the key new
events use. Lines starting with ``#`` are comments. :envvar:`PATHWAYS_AUDIT_KEYS` names the
file for :func:`~pathways.store.open_store` and the command line.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

import attrs

from .._limits import id_problem
from ..errors import StoreError

__all__ = ["ENV_KEYS", "AuditKeys"]

ENV_KEYS = "PATHWAYS_AUDIT_KEYS"
"""The environment variable naming the audit key file."""


@attrs.frozen(repr=False)
class AuditKeys:
    """HMAC keys by id, and the id of the key that new events use (secrets never printed)."""

    keys: Mapping[str, bytes]
    current: str

    def __attrs_post_init__(self) -> None:
        if self.current not in self.keys:
            raise StoreError(f"the current audit key {self.current!r} is not among the keys")
        for key_id, secret in self.keys.items():
            if (why := id_problem(key_id, 64)) is not None:
                raise StoreError(f"audit key id {key_id[:40]!r}: {why}")
            if len(secret) < 32:
                raise StoreError(f"audit key {key_id!r} is {len(secret)} bytes; use at least 32 random bytes")

    def __repr__(self) -> str:
        return f"AuditKeys(ids={sorted(self.keys)!r}, current={self.current!r})"

    def mac(self, key_id: str, body: bytes) -> str:
        """The HMAC-SHA256 of ``body`` under key ``key_id``, in hex."""
        return hmac.new(self.keys[key_id], body, hashlib.sha256).hexdigest()

    def rotated(self, key_id: str, secret: bytes | None = None) -> AuditKeys:
        """These keys plus a new current one (a fresh random secret unless given)."""
        if key_id in self.keys:
            raise StoreError(f"audit key id {key_id!r} is already used; choose a new id")
        return AuditKeys({**self.keys, key_id: secret or secrets.token_bytes(32)}, key_id)

    @classmethod
    def generate(cls, key_id: str = "k1") -> AuditKeys:
        """One new random key."""
        return cls({key_id: secrets.token_bytes(32)}, key_id)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str]) -> AuditKeys:
        """Read a key file (see the module docstring).

        Raises:
            StoreError: the file is missing, malformed or holds no key.
        """
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"cannot read the audit key file {os.fspath(path)!r}: {getattr(exc, 'strerror', None) or exc}") from None
        keys: dict[str, bytes] = {}
        current = None
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            try:
                if len(parts) != 2:
                    raise ValueError
                keys[parts[0]] = bytes.fromhex(parts[1])
            except ValueError:
                raise StoreError(f"audit key file {os.fspath(path)!r} line {number}: write '<key id> <secret in hex>'") from None
            current = parts[0]
        if current is None:
            raise StoreError(f"audit key file {os.fspath(path)!r} holds no key")
        return cls(keys, current)

    def to_file(self, path: str | os.PathLike[str]) -> None:
        """Write the keys (current last), readable by the owner only."""
        order = [k for k in self.keys if k != self.current] + [self.current]
        text = "# pathways audit keys: <key id> <secret in hex>; the last line signs new events\n"
        text += "".join(f"{k} {self.keys[k].hex()}\n" for k in order)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)

    @classmethod
    def from_env(cls) -> AuditKeys | None:
        """The keys named by :data:`ENV_KEYS`, or ``None`` when it is not set."""
        path = os.environ.get(ENV_KEYS)
        return cls.from_file(path) if path else None
