"""The plain pages a share link answers with before (or instead of) the demo: not found, expired,
revoked, the password form, the sign-in step. Small, self-contained HTML (no scripts), every
value escaped; they never show an error's details."""

from html import escape

from starlette.responses import HTMLResponse

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f7f9;color:#1f2933;
margin:0;display:flex;min-height:100vh;align-items:center;justify-content:center}
main{background:#fff;border-radius:12px;box-shadow:0 2px 12px rgba(0,0,0,.08);padding:2rem 2.5rem;
max-width:32rem}
h1{font-size:1.4rem;margin:0 0 .75rem}p{line-height:1.5}.hint{color:#52606d;font-size:.9rem}
input{font-size:1rem;padding:.5rem;width:100%;box-sizing:border-box;margin:.5rem 0 1rem}
button,a.button{font-size:1rem;padding:.55rem 1.2rem;border:0;border-radius:6px;background:#2563eb;
color:#fff;text-decoration:none;cursor:pointer;display:inline-block}.error{color:#b42318}
"""
# No scripts, nothing from elsewhere; a form may post only back here. The token is in the URL:
# no Referer leaves with it.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}


def page(title: str, body: str, status: int, refresh: int | None = None) -> HTMLResponse:
    """A page with `title` and `body` (HTML, already escaped); `refresh`: seconds until the
    browser asks again."""
    again = f'<meta http-equiv="refresh" content="{int(refresh)}">' if refresh else ""
    html = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{again}'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)} · Kaizen Studio</title><style>{STYLE}</style></head>"
        f"<body><main><h1>{escape(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(html, status_code=status, headers=HEADERS)


def not_found() -> HTMLResponse:
    return page(
        "This link does not work",
        "<p>There is no demo at this address. Check that the whole link was copied, or ask "
        "the person who shared it for a new one.</p>",
        404,
    )


def revoked() -> HTMLResponse:
    return page(
        "This link was revoked",
        "<p>The person who shared this demo, or an administrator, has turned this link off. "
        "Ask them for a new link if you still need it.</p>",
        410,
    )


def expired(when: str) -> HTMLResponse:
    return page(
        "This link has expired",
        f"<p>This share link stopped working on {escape(when)}. Ask the person who shared it "
        "for a new link.</p>",
        410,
    )


def unavailable(model: str) -> HTMLResponse:
    return page(
        "The demo is not available right now",
        f"<p>The model <b>{escape(model)}</b> is not being served at the moment (it may be "
        "loading, or it was unpublished). Try again in a minute; if it keeps happening, tell "
        "the person who shared it.</p>",
        503,
    )


def starting(model: str) -> HTMLResponse:
    return page(
        "The demo is starting",
        f"<p>The model <b>{escape(model)}</b> was published a moment ago and is being loaded. "
        "This page tries again by itself in a few seconds.</p>",
        503,
        refresh=5,
    )


def too_many() -> HTMLResponse:
    return page(
        "Too many requests",
        "<p>This link has been used a lot in the last minute. Wait a minute and try again.</p>",
        429,
    )


def password_form(model: str, wrong: bool = False) -> HTMLResponse:
    error = '<p class="error">That password is not right.</p>' if wrong else ""
    return page(
        f"Demo of {model}",
        f"<p>This demo is protected by a password. The person who shared it can tell you.</p>"
        f'{error}<form method="post"><label for="password">Password</label>'
        f'<input id="password" name="password" type="password" required autofocus '
        f'autocomplete="current-password"><button type="submit">Open the demo</button></form>',
        401 if wrong else 200,
    )


def sign_in_needed(model: str, sign_in_url: str) -> HTMLResponse:
    return page(
        f"Demo of {model}",
        "<p>This demo is shared with people who have a Kaizen Studio account. Sign in, then "
        "open the demo from there.</p>"
        f'<p><a class="button" href="{escape(sign_in_url)}">Sign in to Kaizen Studio</a></p>'
        '<p class="hint">The button takes you to the sign-in page and back here.</p>',
        401,
    )


def demo_closed(reason: str, status: int) -> HTMLResponse:
    return page(
        "This demo is reached through a share link",
        f"<p>{escape(reason)}</p><p>Open the share link you were given again, or ask the "
        "person who shared it for a new one.</p>",
        status,
    )
