"""``Cache-Control: no-store`` on every HTTP response that does not say otherwise.

Token responses must not be stored by any cache (RFC 6749 §5.1), and most answers carry
personal data (a citizen's documents, inbox, payments; verified fields). Rather than have
each such route remember it, the rule is the other way round: a route whose answer may be
cached *declares* it by setting its own ``Cache-Control`` (the published keys, status
lists, document types and schemas); every other answer, errors included and whichever path
served it (Litestar or the direct path), leaves with ``no-store``.
"""

from __future__ import annotations

from wallet_api.asgi import ASGIApp, Message, Receive, Scope, Send

__all__ = ["NoStoreByDefault"]

_NAME = b"cache-control"
_NO_STORE = (_NAME, b"no-store")


class NoStoreByDefault:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message.get("headers", ())
                if not any(name.lower() == _NAME for name, _ in headers):
                    message["headers"] = [*headers, _NO_STORE]
            await send(message)

        await self.app(scope, receive, send_no_store)
