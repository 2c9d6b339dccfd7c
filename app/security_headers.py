"""Security headers on every response (issue 11, finding 9); see docs/security.md.

- ``Content-Security-Policy``: scripts, styles, images and connections from this origin only,
  no inline script or style, no plugins, no framing (``frame-ancestors 'none'``), forms post
  only here. ``/docs`` gets a wider policy for Swagger UI (its inline bootstrap script; its
  assets are served from here, from the npm package); it is for logged-in users only.
- ``X-Frame-Options: DENY`` (older browsers), ``X-Content-Type-Options: nosniff``,
  ``Referrer-Policy: same-origin`` (item tokens and study ids never leave the site),
  ``Cross-Origin-Opener-Policy: same-origin``, a ``Permissions-Policy`` that turns off
  camera, microphone and location.
- ``Strict-Transport-Security`` when the request came over HTTPS (directly, or through a
  proxy that uvicorn trusts for ``X-Forwarded-Proto``) or ``cookie_secure`` is true.
- ``Cache-Control: no-store`` on every response that sets no cache policy of its own:
  results, exports, figures and pages hold study data that must not stay in shared or disk
  caches. Static files keep their validators; item images keep their own identical headers.
- The session cookie gets ``Secure`` when ``cookie_secure`` is true, or, when it is unset,
  whenever the request came over HTTPS.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.config import Settings

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
    ]
)
HSTS = "max-age=31536000; includeSubDomains"
FIXED = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
SESSION_COOKIE = "lungsign_session="


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP response."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.cookie_secure = settings.cookie_secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in FIXED.items():
                    headers.setdefault(name, value)
                docs = path == "/docs" or path.startswith("/docs/")
                headers.setdefault("Content-Security-Policy", DOCS_CSP if docs else CSP)
                if https or self.cookie_secure:
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if "cache-control" not in headers and not path.startswith("/static/"):
                    headers["Cache-Control"] = "no-store"
                if https and self.cookie_secure is None:
                    _secure_session_cookie(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _secure_session_cookie(headers: MutableHeaders) -> None:
    """Add ``Secure`` to the session cookie (SessionMiddleware's flags are fixed at start)."""
    cookies = headers.getlist("set-cookie")
    if not any(c.startswith(SESSION_COOKIE) for c in cookies):
        return
    del headers["set-cookie"]
    for cookie in cookies:
        if cookie.startswith(SESSION_COOKIE) and "; secure" not in cookie.lower():
            cookie += "; secure"
        headers.append("set-cookie", cookie)
