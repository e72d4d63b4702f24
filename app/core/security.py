"""JWTs and passwords. All JOSE code lives here, so moving off python-jose touches one file."""

import asyncio
import hashlib
import hmac
import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from jose import JWTError, jwt
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.clock import clock
from app.core.config import get_settings

# Exactly one algorithm is accepted; "none" and asymmetric confusion are impossible.
ALGORITHM = "HS256"
REQUIRED_CLAIMS = ("exp", "iat", "sub", "aud", "iss", "jti", "typ")
TokenType = Literal["access", "refresh"]


class InvalidToken(Exception):
    """The token is malformed, expired, or not meant for us."""


def create_token(sub: str, typ: TokenType, ttl: timedelta, **claims: Any) -> tuple[str, str]:
    s = get_settings()
    now = datetime.fromtimestamp(int(clock.wall()), UTC)
    jti = uuid.uuid4().hex
    payload = {
        "sub": sub,
        "typ": typ,
        "iat": int(now.timestamp()),
        "exp": int((now + ttl).timestamp()),
        "aud": s.jwt_audience,
        "iss": s.jwt_issuer,
        "jti": jti,
        **claims,
    }
    return jwt.encode(payload, s.secret_key, algorithm=ALGORITHM), jti


# Verified claims by (key, token): a client sends the same access token on every request
# for its lifetime, and python-jose's decode was a measured 0.5 ms of each request's CPU.
# Only tokens that verified are kept; expiry and type are still checked on every use.
_verified: dict[tuple[str, str], dict[str, Any]] = {}
_VERIFIED_MAX = 20000


def decode_token(token: str, expected: TokenType) -> dict[str, Any]:
    key = (get_settings().secret_key, token)
    claims = _verified.get(key)
    if claims is None:
        claims = _decode(token)
        if len(_verified) >= _VERIFIED_MAX:
            _verified.pop(next(iter(_verified)))  # the oldest
        _verified[key] = claims
    elif claims["exp"] < clock.wall():  # python-jose's rule: valid up to and at exp
        raise InvalidToken("Signature has expired.")
    if claims["typ"] != expected:
        raise InvalidToken("wrong token type")
    return claims


def _decode(token: str) -> dict[str, Any]:
    s = get_settings()
    try:
        header = jwt.get_unverified_header(token)
        if header.get("alg") != ALGORITHM:
            raise InvalidToken("unexpected algorithm")
        claims: dict[str, Any] = jwt.decode(
            token,
            s.secret_key,
            algorithms=[ALGORITHM],
            audience=s.jwt_audience,
            issuer=s.jwt_issuer,
            options={"require_" + c: True for c in ("exp", "iat", "sub", "aud", "iss", "jti")},
        )
    except JWTError as e:
        raise InvalidToken(str(e)) from e
    for c in REQUIRED_CLAIMS:
        if c not in claims:
            raise InvalidToken(f"missing claim {c}")
    if not isinstance(claims["exp"], int | float):
        raise InvalidToken("exp is not a number")
    return claims


def peek_subject(token: str) -> str | None:
    """The verified subject of an access token, or None; used where failing is not our job."""
    try:
        return str(decode_token(token, "access")["sub"])
    except InvalidToken:
        return None


_hasher: PasswordHash | None = None


def _password_hasher() -> PasswordHash:
    global _hasher
    if _hasher is None:
        s = get_settings()
        _hasher = PasswordHash(
            (Argon2Hasher(time_cost=s.argon2_time_cost, memory_cost=s.argon2_memory_kib),)
        )
    return _hasher


# A real hash of a random password: unknown accounts cost the same verification.
_DUMMY: str | None = None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_password_hasher().hash, password)


async def verify_password(password: str, hashed: str | None) -> bool:
    global _DUMMY
    if hashed is None:
        if _DUMMY is None:
            _DUMMY = await hash_password(secrets.token_urlsafe(16))
        await asyncio.to_thread(_password_hasher().verify, password, _DUMMY)
        return False
    try:
        return await asyncio.to_thread(_password_hasher().verify, password, hashed)
    except Exception:
        return False


def hash_secret(secret: str) -> str:
    """High-entropy secrets (refresh tokens, client secrets) need no slow hash, only a keyed one."""
    key = get_settings().secret_key.encode()
    return hmac.new(key, secret.encode(), hashlib.sha256).hexdigest()


def new_secret(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)
