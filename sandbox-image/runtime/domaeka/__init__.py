"""도매카 플랫폼이 테넌트 코드에 주는 것 / what the platform gives tenant code.

    from domaeka import store

    def handle_command(params):
        n = store.incr("포인트:" + params["sender"])
        return f"포인트: {n}"

`store` is a key-value store kept by the platform (PostgreSQL, per tenant):
it lives across calls and containers, unlike module globals. `db` runs SQL
on the tenant's own tables (its own PostgreSQL schema):

    from domaeka import db

    db.execute("create table if not exists 재고 (이름 text primary key, 수량 int not null)")
    db.execute("insert into 재고 values ($1, $2) on conflict (이름) do update set 수량 = 재고.수량 + excluded.수량", ["사과", 10])
    db.query("select 수량 from 재고 where 이름 = $1", ["사과"])   # -> [{"수량": 10}]
`send(room, text)` sends a message to a room of the tenant's bots once the
call has ended well (domaeka/_outbox.py):

    from domaeka import send

    send("가게 공지방", "오늘은 6시에 문을 닫습니다")

Their errors are the exceptions below (messages Korean first, English after " / ").
"""

from .errors import (  # noqa: F401 - the module's API
    DbError,
    DbUnavailable,
    Forbidden,
    InvalidArgument,
    InvalidMessage,
    InvalidParams,
    InvalidKey,
    InvalidValue,
    NotANumber,
    NotInCall,
    QuotaExceeded,
    SendError,
    SqlSyntaxError,
    StatementFailed,
    StatementTimeout,
    StoreError,
    StoreUnavailable,
    TooManyCalls,
    TooManyRows,
    TooManySends,
    ValueTooLarge,
)
from ._outbox import send  # noqa: F401,E402 - the module's API
