"""도매카 플랫폼이 테넌트 코드에 주는 것 / what the platform gives tenant code.

    from domaeka import store

    def handle_command(params):
        n = store.incr("포인트:" + params["sender"])
        return f"포인트: {n}"

`store` is a key-value store kept by the platform (PostgreSQL, per tenant):
it lives across calls and containers, unlike module globals. Its errors are
the exceptions below (messages Korean first, English after " / ").
"""

from .errors import (  # noqa: F401 - the module's API
    InvalidArgument,
    InvalidKey,
    InvalidValue,
    NotANumber,
    NotInCall,
    QuotaExceeded,
    StoreError,
    StoreUnavailable,
    TooManyCalls,
    ValueTooLarge,
)
