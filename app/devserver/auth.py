"""Basic authentication of the local server (wats-api.md §1).

Every `/api` call must send `Authorization: Basic <token>`. Accepted are the server's token
(`--token`, default `DEFAULT_TOKEN`) and the credentials of stations registered through
`POST /api/internal/Client/Register`, which are base64("<mac>:<passcode>").
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field

from app.devserver.jsonio import ApiError


def basic_token(user: str, secret: str) -> str:
    """The Basic credential value for a user and secret: base64 of "user:secret"."""
    return base64.b64encode(f"{user}:{secret}".encode()).decode("ascii")


DEFAULT_TOKEN = basic_token("station", "wats")

DENIED = ApiError(
    401,
    "Authorization has been denied for this request.",
    headers={"WWW-Authenticate": 'Basic realm="WATS"'},
)


def token_from_header(value: str | None) -> str | None:
    """The token of an `Authorization: Basic <token>` header, or None for any other header."""
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    token = token.strip()
    return token or None


@dataclass
class Credentials:
    """The tokens the server accepts: its own and those of registered stations."""

    server_token: str
    client_passcodes: dict[str, str] = field(default_factory=dict)  # mac -> passcode
    _client_tokens: dict[str, str] = field(default_factory=dict)  # token -> mac

    def check(self, header: str | None) -> str | None:
        """Raise 401 unless the header carries an accepted token; return the station's MAC
        when a registered station authenticated, else None."""
        token = token_from_header(header)
        if token is None:
            raise DENIED
        if token == self.server_token:
            return None
        mac = self._client_tokens.get(token)
        if mac is None:
            raise DENIED
        return mac

    def register(self, mac: str) -> str:
        """Issue a new passcode for a station; its previous passcode stops working."""
        old = self.client_passcodes.get(mac)
        if old is not None:
            self._client_tokens.pop(basic_token(mac, old), None)
        passcode = secrets.token_urlsafe(18)
        self.client_passcodes[mac] = passcode
        self._client_tokens[basic_token(mac, passcode)] = mac
        return passcode

    def forget_clients(self) -> None:
        self.client_passcodes.clear()
        self._client_tokens.clear()
