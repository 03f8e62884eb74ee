"""The audit log: append-only security events, each row chained to the previous by SHA-256.

Domains call :func:`record` inside their own transaction. ``wallet audit verify`` (and
:func:`verify_chain`) recompute the chain and report the first edited, inserted or
deleted row, including a deleted tail, which ``audit_head`` pins.
"""

from wallet_api.audit.chain import AuditBreak, record, verify_chain

__all__ = ["AuditBreak", "record", "verify_chain"]
