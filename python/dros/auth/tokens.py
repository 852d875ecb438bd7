"""JWT HS256 tokens with exactly the seed's claims: exp, id, name."""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

import jwt
import msgspec

from dros.errors import DrosError, ErrorCode

ALGORITHM = "HS256"


def load_or_create_secret(data_dir: Path) -> bytes:
    """A random per-installation key, created on first start, readable by the owner only."""
    secret_dir = data_dir / "secrets"
    secret_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(secret_dir, 0o700)
    path = secret_dir / "jwt.key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(secrets.token_bytes(32))
    os.chmod(path, 0o600)
    key = path.read_bytes()
    if len(key) < 32:
        raise RuntimeError(f"{path} holds fewer than 32 bytes; delete it to create a new key")
    return key


class TokenClaims(msgspec.Struct, frozen=True):
    id: int
    name: str
    exp: int

    def issued_at(self, lifetime_s: int) -> int:
        """The issue time (epoch seconds) derived from `exp`: the seed's tokens carry no `iat`."""
        return self.exp - lifetime_s


class TokenService:
    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def issue(self, user_id: int, name: str, lifetime_s: int) -> tuple[str, int]:
        exp = int(time.time()) + lifetime_s
        token = jwt.encode({"exp": exp, "id": user_id, "name": name}, self._secret, algorithm=ALGORITHM)
        return token, exp

    def decode(self, token: str) -> TokenClaims:
        """The claims of a valid token; DrosError TOKEN_EXPIRED / TOKEN_INVALID otherwise."""
        try:
            claims = jwt.decode(token, self._secret, algorithms=[ALGORITHM], options={"require": ["exp", "id", "name"]})
        except jwt.ExpiredSignatureError as exc:
            raise DrosError(ErrorCode.TOKEN_EXPIRED) from exc
        except jwt.PyJWTError as exc:
            raise DrosError(ErrorCode.TOKEN_INVALID, en=str(exc), zh=str(exc)) from exc
        user_id, name = claims.get("id"), claims.get("name")
        if not isinstance(user_id, int) or isinstance(user_id, bool) or not isinstance(name, str):
            raise DrosError(ErrorCode.TOKEN_INVALID, en="claims id/name have wrong types", zh="令牌声明类型错误")
        exp = claims["exp"]  # PyJWT has checked it is an integer in the future
        return TokenClaims(id=user_id, name=name, exp=int(exp))
