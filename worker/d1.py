"""A thin wrapper over the D1 binding: plain dicts out, every value bound, typed errors carrying the SQL."""
# `pyodide` is imported where used: D1Error stays importable on CPython, for the unit tests of the modules
# that build statements.
from sql import Sql


class D1Error(Exception):
    def __init__(self, message, sql):
        super().__init__(f"{message} [SQL: {' '.join(sql.split())[:300]}]")
        self.reason = message
        self.sql = sql

    @property
    def too_big(self):
        """SQLITE_TOOBIG: a value (a bound JSON, or one a statement computed) past D1's 2 MB."""
        return "TOOBIG" in self.reason or "too big" in self.reason.lower()


def _check_params(sql, params):
    for position, value in enumerate(params, start=1):
        # Pyodide turns None into JS `undefined`, which D1 rejects: callers must not bind nulls.
        # Optional filters are expressed as fixed SQL fragments instead.
        if value is None:
            raise D1Error(f"parameter {position} is None; D1 cannot bind it", sql)
        if isinstance(value, bool):
            raise D1Error(f"parameter {position} is a bool; bind 0/1", sql)


def _statement(sql, params=()):
    """`sql`: an Sql fragment (with its values), or SQL text with `params`."""
    statement = sql if isinstance(sql, Sql) else Sql(sql, params)
    _check_params(statement.text, statement.params)
    return statement


def _prepare(binding, statement):
    prepared = binding.prepare(statement.text)
    return prepared.bind(*statement.params) if statement.params else prepared


def _rows(result):
    return result.results.to_py() if result.results else []


def _meta(result):
    return result.meta.to_py() if result.meta else {}


class Database:
    """Also totals D1's rows read/written for the request: the quantities the Free plan meters."""

    def __init__(self, binding):
        self.binding = binding
        self.rows_read = 0
        self.rows_written = 0
        # Calls made (a batch is one): D1 allows 50 per invocation on the Free plan (fold.catch_up stops short of it).
        self.calls = 0
        # Milliseconds D1 says it spent executing (each result's meta.duration). Local D1 runs on the worker's own
        # thread under wrangler dev, so the process's CPU and the V8 profile count it too; in production it is D1's
        # time, not the worker's: the bench subtracts it (bench/cpu.py).
        self.duration_ms = 0.0

    def _count(self, meta):
        self.rows_read += int(meta.get("rows_read") or 0)
        self.rows_written += int(meta.get("rows_written") or 0)
        self.duration_ms += float(meta.get("duration") or 0)
        return meta

    async def query(self, sql, *params):
        """`sql`: an Sql fragment, or SQL text followed by its values."""
        from pyodide.ffi import JsException

        statement = _statement(sql, params)
        self.calls += 1
        try:
            result = await _prepare(self.binding, statement).all()
        except JsException as error:
            raise D1Error(str(error), statement.text) from None
        self._count(_meta(result))
        return _rows(result)

    async def first(self, sql, *params):
        rows = await self.query(sql, *params)
        return rows[0] if rows else None

    async def run(self, sql, *params):
        from pyodide.ffi import JsException

        statement = _statement(sql, params)
        self.calls += 1
        try:
            return self._count(_meta(await _prepare(self.binding, statement).run()))
        except JsException as error:
            raise D1Error(str(error), statement.text) from None

    async def batch(self, statements):
        """Sql statements run in one transaction: all or nothing. Returns [{"rows": [...], "meta": {...}}]."""
        from pyodide.ffi import JsException, to_js

        statements = [_statement(s) for s in statements]
        self.calls += 1
        try:
            results = await self.binding.batch(to_js([_prepare(self.binding, s) for s in statements]))
        except JsException as error:
            raise D1Error(str(error), "; ".join(s.text for s in statements)) from None
        return [{"rows": _rows(r), "meta": self._count(_meta(r))} for r in results]
