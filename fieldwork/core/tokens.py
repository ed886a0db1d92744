"""Secret tokens for links and API access: 256 random bits, kept only as a SHA-256 digest.

A token is looked up by its digest, so the database never holds anything that opens a link,
and a look-up's timing says nothing about the token itself.
"""

from __future__ import annotations

import hashlib
import secrets

#: Random bytes in a token (256 bits; issue 8 asks for at least 128).
TOKEN_BYTES = 32


def new_token() -> str:
    """A fresh URL-safe token (43 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def hash_token(token: str) -> str:
    """The hex SHA-256 digest under which a token is stored and looked up."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
