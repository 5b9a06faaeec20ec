"""The store's and the tables' errors. Each carries `code`, the runner's name for it
(services/runner/README.md, "Store"), and a message Korean first.

The tables' errors are DbError's kinds (services/tenant-data, "The guard");
the tables' quota is the store's QuotaExceeded. An uncaught QuotaExceeded ends the run with KB_ERR_STORAGE_QUOTA (the room
hears "저장 공간이 가득 찼습니다..."), not as an exception of the code; the
others end it like any exception of the code (KB_ERR_USER_EXCEPTION).
"""


class StoreError(Exception):
    """Anything the store refused or could not do."""

    code = 'KB_ERR_STORE'

    def __init__(self, message, code=None):
        Exception.__init__(self, message)
        self.message = message
        if code:
            self.code = code


class QuotaExceeded(StoreError):
    """The plan's keys or bytes are used up; the refused write did not happen, nothing stored is lost."""

    code = 'KB_ERR_STORAGE_QUOTA'


class ValueTooLarge(StoreError):
    """One value over 64 KiB of JSON."""

    code = 'KB_ERR_STORE_VALUE_TOO_LARGE'


class NotANumber(StoreError):
    """incr on a key whose value is not a number."""

    code = 'KB_ERR_STORE_NOT_A_NUMBER'


class NotInCall(StoreError):
    """The store is used outside a call (a thread left running after its call answered)."""

    code = 'KB_ERR_STORE_NO_CALL'


class TooManyCalls(StoreError):
    """More store calls in one run than the platform allows (1,000)."""

    code = 'KB_ERR_STORE_BUDGET'


class InvalidArgument(StoreError, ValueError):
    """A key, value, ttl or step the store cannot take."""

    code = 'KB_ERR_STORE_INVALID'


class InvalidKey(InvalidArgument):
    """A key that is not a string of 1 to 200 characters (no NUL)."""


class InvalidValue(InvalidArgument):
    """A value that is not JSON (sets, bytes, objects, NaN, ...) or holds what cannot be stored."""


class StoreUnavailable(StoreError):
    """The store does not answer right now (try again later)."""

    code = 'KB_ERR_STORE_UNAVAILABLE'


class DbError(StoreError):
    """Anything the tables (`from domaeka import db`) refused or could not do."""

    code = 'KB_ERR_DB'


class Forbidden(DbError):
    """SQL the platform does not run: another schema, the catalogs, SET ROLE, COPY, a function not allowed, more than one statement."""

    code = 'KB_ERR_DB_FORBIDDEN'


class SqlSyntaxError(DbError):
    """SQL that does not parse."""

    code = 'KB_ERR_DB_SYNTAX'


class StatementFailed(DbError):
    """PostgreSQL refused the statement (a missing table, a duplicate key, a wrong type...): its message is included."""

    code = 'KB_ERR_DB_STATEMENT'


class StatementTimeout(DbError):
    """The statement ran past the plan's time limit; nothing was changed."""

    code = 'KB_ERR_DB_TIMEOUT'


class TooManyRows(DbError):
    """More rows (or bytes) than the plan returns at once; nothing was changed: add a LIMIT."""

    code = 'KB_ERR_DB_TOO_MANY_ROWS'


class InvalidParams(DbError, ValueError):
    """sql or params the tables cannot take (params: a list of None, bool, int, float, str, Decimal, date, dict, list)."""

    code = 'KB_ERR_DB_INVALID'


class DbUnavailable(DbError):
    """The database does not answer right now (try again later)."""

    code = 'KB_ERR_DB_UNAVAILABLE'


class SendError(Exception):
    """What `send(room, text)` refused (the message is not queued)."""

    code = 'KB_ERR_SEND'


class InvalidMessage(SendError, ValueError):
    """A room name or text that is not a str of the allowed length (no NUL)."""

    code = 'KB_ERR_SEND_INVALID'


class TooManySends(SendError):
    """More messages in one call than SENDS_MAX."""

    code = 'KB_ERR_SEND_TOO_MANY'


_BY_CODE = {c.code: c for c in (QuotaExceeded, ValueTooLarge, NotANumber, NotInCall, TooManyCalls, InvalidArgument, StoreUnavailable,
                                Forbidden, SqlSyntaxError, StatementFailed, StatementTimeout, TooManyRows, InvalidParams,
                                DbUnavailable)}

# Shown as domaeka.QuotaExceeded (where tenant code imports them from), not domaeka.errors.QuotaExceeded.
for _c in (StoreError, QuotaExceeded, ValueTooLarge, NotANumber, NotInCall, TooManyCalls, InvalidArgument, InvalidKey,
           InvalidValue, StoreUnavailable, DbError, Forbidden, SqlSyntaxError, StatementFailed, StatementTimeout, TooManyRows,
           InvalidParams, DbUnavailable, SendError, InvalidMessage, TooManySends):
    _c.__module__ = 'domaeka'
del _c


def from_answer(error):
    """The exception for a runner's `error: {code, message}`."""
    if type(error) is not dict:
        error = {}
    code = error.get('code')
    message = error.get('message')
    if type(message) is not str or not message:
        message = '저장소 오류 / store error'
    cls = _BY_CODE.get(code, StoreError)
    return cls(message, code if type(code) is str else None)
