"""Security headers of the service's responses (a strict CSP on the API, another on HTML pages)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["API_CSP", "HTML_CSP", "HTML_PATHS", "SecurityHeaders", "security_headers"]

#: Headers every response carries.
SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)
#: Content-Security-Policy of the API's JSON answers: nothing may load, nothing may frame them.
API_CSP = b"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Content-Security-Policy of the HTML pages (the folium maps and the OpenAPI pages): their
#: inline scripts and styles and the service's own assets (Leaflet is inlined in the maps,
#: Swagger UI and ReDoc are served locally), map tiles over HTTPS.
HTML_CSP = (
    b"default-src 'none'; script-src 'self' 'unsafe-inline' blob:; worker-src 'self' blob:; "
    b"style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; "
    b"font-src 'self' data:; connect-src 'self'; "
    b"frame-ancestors 'self'; base-uri 'self'; form-action 'none'"
)
#: Paths served as HTML pages (prefixes).
HTML_PATHS = ("/maps", "/docs", "/redoc")


class SecurityHeaders:
    """ASGI middleware adding security headers to every response.

    ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: no-referrer``,
    and a ``Content-Security-Policy`` with ``X-Frame-Options``: strict on the
    API (:data:`API_CSP`, ``DENY``), allowing the inline scripts of the maps
    and documentation pages under :data:`HTML_PATHS` (:data:`HTML_CSP`,
    ``SAMEORIGIN``).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, adding the headers to the response start."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(str(scope.get("path", "")))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                headers = list(message.get("headers", []))
                headers += [(k, v) for k, v in extra if k not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def security_headers(path: str) -> list[tuple[bytes, bytes]]:
    """The security headers of a response to ``path`` (raw ASGI name/value pairs).

    Examples
    --------
    >>> dict(security_headers("/maps/budgets"))[b"x-frame-options"]
    b'SAMEORIGIN'
    """
    html = path.startswith(HTML_PATHS)
    return [
        *SECURITY_HEADERS,
        (b"content-security-policy", HTML_CSP if html else API_CSP),
        (b"x-frame-options", b"SAMEORIGIN" if html else b"DENY"),
    ]
