"""The dashboard's sign-in limits: failed sign-ins per client address and per account (across addresses).

An attempt is counted before its password is checked, with one atomic increment per limit (the `limits`
library's fixed windows, in Redis so every web worker shares them): of many attempts sent at once, no
more than the limit get to the password check. A successful sign-in gives its count back, so only
failures use the limit up. While Redis cannot be reached the counts are kept in this process's memory
(with a warning in the log) and Redis is tried again after `RETRY_SHARED_SECONDS`.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

from flask import Flask, current_app
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

log = logging.getLogger(__name__)

RETRY_SHARED_SECONDS = 30.0
# A sign-in must not hang on an unreachable Redis: give up quickly and count in memory instead.
REDIS_TIMEOUT_SECONDS = 1.0
EXTENSION = "umoja_sign_in_limits"


@dataclass
class Attempt:
    """One sign-in attempt, counted against every limit; `release` gives the counts back (a success)."""

    limits: SignInLimits
    limiter: FixedWindowRateLimiter
    counted: list[tuple[RateLimitItem, str, str]] = field(default_factory=list)

    def release(self) -> None:
        """Give back what this attempt counted."""
        try:
            self.limits.uncount(self.limiter, self.counted)
        except StorageError:
            log.warning("sign-in limits: could not give back a successful sign-in's count", exc_info=True)
        self.counted = []


@dataclass(frozen=True)
class Refusal:
    """An attempt over a limit: nothing was counted and no password may be checked."""

    retry_after: int


class SignInLimits:
    """Counts sign-in attempts per address and per account, in Redis or (Redis unreachable) in memory."""

    def __init__(self, storage_uri: str, per_address: str, per_account: str) -> None:
        options = {} if storage_uri.startswith("memory") else {
            "socket_timeout": REDIS_TIMEOUT_SECONDS, "socket_connect_timeout": REDIS_TIMEOUT_SECONDS}
        self.shared = FixedWindowRateLimiter(storage_from_string(storage_uri, wrap_exceptions=True, **options))
        self.local = FixedWindowRateLimiter(MemoryStorage())
        self.per_address = parse_many(per_address) if per_address.strip() else []
        self.per_account = parse_many(per_account) if per_account.strip() else []
        self.shared_down_until = 0.0

    def attempt(self, address: str, email: str) -> Attempt | Refusal:
        """Count an attempt from `address` at the account `email` against every limit, before any password
        is checked; a Refusal when one limit is used up."""
        keys = [(item, "address", address) for item in self.per_address]
        keys += [(item, "account", email) for item in self.per_account]
        if time.monotonic() >= self.shared_down_until:
            try:
                return self.count(self.shared, keys)
            except StorageError:
                self.shared_down_until = time.monotonic() + RETRY_SHARED_SECONDS
                log.warning("sign-in limits: Redis is unreachable; counting in this process's memory for %ss",
                            int(RETRY_SHARED_SECONDS), exc_info=True)
        return self.count(self.local, keys)

    def count(self, limiter: FixedWindowRateLimiter, keys: list[tuple[RateLimitItem, str, str]]) -> Attempt | Refusal:
        """Count one against each limit in turn (atomic increments); over one, give back all and refuse."""
        attempt = Attempt(self, limiter)
        for item, kind, who in keys:
            attempt.counted.append((item, kind, who))
            if not limiter.hit(item, "dashboard-sign-in", kind, who):
                self.uncount(limiter, attempt.counted)
                reset = limiter.get_window_stats(item, "dashboard-sign-in", kind, who).reset_time
                return Refusal(retry_after=max(1, math.ceil(reset - time.time())))
        return attempt

    @staticmethod
    def uncount(limiter: FixedWindowRateLimiter, counted: list[tuple[RateLimitItem, str, str]]) -> None:
        """Take one off each of these counts."""
        for item, kind, who in counted:
            limiter.storage.incr(item.key_for("dashboard-sign-in", kind, who), item.get_expiry(), amount=-1)


def init_sign_in_limits(app: Flask, storage_uri: str) -> None:
    """Give the app its sign-in limits, from DASHBOARD_LOGIN_LIMIT and DASHBOARD_ACCOUNT_LOGIN_LIMIT."""
    app.extensions[EXTENSION] = SignInLimits(storage_uri, app.config.get("DASHBOARD_LOGIN_LIMIT") or "",
                                             app.config.get("DASHBOARD_ACCOUNT_LOGIN_LIMIT") or "")


def sign_in_limits() -> SignInLimits:
    """The app's sign-in limits."""
    return current_app.extensions[EXTENSION]
