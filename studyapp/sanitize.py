"""The XSS sanitiser: untrusted text (problems, steps, documents, summaries) to safe HTML.

Markdown is rendered on the server and the result is sanitised with `nh3`
against a short allow-list: no script, no style, no event handlers, no
images, no iframes, only http(s)/mailto links. Math (`$...$`, `$$...$$`,
`\\(...\\)`, `\\[...\\]`) is taken out before Markdown sees it (so `_` and `*`
inside formulas survive) and put back as escaped text in
`<span class="math">`, which KaTeX renders in the browser with
`trust: false`. Whatever a dataset or a model wrote renders inert.
"""

from __future__ import annotations

import re
import secrets
from html import escape

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

MATH = re.compile(
    r"\$\$(?P<d1>.+?)\$\$"
    r"|\\\[(?P<d2>.+?)\\\]"
    r"|\\\((?P<i1>.+?)\\\)"
    r"|(?<![\\$\w])\$(?P<i2>[^\s$](?:[^$\n]*?[^\s$\\])?)\$(?!\w)",
    re.S,
)

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "td": {"align"}, "th": {"align"}}


def render_markdown(text: str) -> SafeString:
    """Markdown with math, sanitised; safe to put in a page as is."""
    if not text:
        return mark_safe("")
    nonce = secrets.token_hex(4)
    spans: list[tuple[str, bool]] = []

    def stash(match: re.Match[str]) -> str:
        display = match.group("d1") is not None or match.group("d2") is not None
        tex = next(g for g in match.group("d1", "d2", "i1", "i2") if g is not None)
        spans.append((tex, display))
        return f"MATH{nonce}X{len(spans) - 1}X"

    protected = MATH.sub(stash, text)
    html = markdown.markdown(protected, extensions=["fenced_code", "tables", "sane_lists"])
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )

    def restore(match: re.Match[str]) -> str:
        tex, display = spans[int(match.group(1))]
        kind = "math math-display" if display else "math math-inline"
        return f'<span class="{kind}">{escape(tex)}</span>'

    return mark_safe(re.sub(rf"MATH{nonce}X(\d+)X", restore, clean))  # sanitised above
