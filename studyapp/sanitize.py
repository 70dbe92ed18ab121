"""The XSS sanitiser: untrusted text (problems, steps, documents, summaries) to safe HTML.

Markdown is rendered on the server and the result is sanitised with `nh3`
against a short allow-list: no script, no style, no event handlers, no
images, no iframes, only http(s)/mailto links. Math (`$...$`, `$$...$$`,
`\\(...\\)`, `\\[...\\]`) is taken out before Markdown sees it (so `_` and `*`
inside formulas survive) and put back as escaped text in
`<span class="math">`, which KaTeX renders in the browser with
`trust: false`. Math inside an attribute (a link's title or URL) or inside
code is put back as the text that was written, since neither can hold
markup. Whatever a dataset or a model wrote renders inert.
"""

from __future__ import annotations

import re
import secrets
from html import escape
from typing import Any

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


CODE = re.compile(r"<code>.*?</code>", re.S)  # nh3 leaves <code> no attribute
MARKDOWN_EXTENSIONS = ["fenced_code", "tables", "sane_lists"]
MARKDOWN_CONFIG = {"tables": {"use_align_attribute": True}}  # `align`, not a style nh3 would drop


def _clean(html: str, **options: Any) -> str:
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        **options,
    )


def render_markdown(text: str) -> SafeString:
    """Markdown with math, sanitised; safe to put in a page as is."""
    if not text:
        return mark_safe("")
    nonce = secrets.token_hex(4)
    placeholder = re.compile(rf"MATH{nonce}X(\d+)X")
    spans: list[tuple[str, str, bool]] = []  # (TeX, as written with its delimiters, display)

    def stash(match: re.Match[str]) -> str:
        display = match.group("d1") is not None or match.group("d2") is not None
        tex = next(g for g in match.group("d1", "d2", "i1", "i2") if g is not None)
        spans.append((tex, match.group(0), display))
        return f"MATH{nonce}X{len(spans) - 1}X"

    def as_written(match: re.Match[str]) -> str:
        return spans[int(match.group(1))][1]

    def as_math(match: re.Match[str]) -> str:
        tex, _, display = spans[int(match.group(1))]
        kind = "math math-display" if display else "math math-inline"
        return f'<span class="{kind}">{escape(tex)}</span>'

    # An attribute (a link's title or URL) cannot hold markup: math there is put
    # back as the text that was written, which nh3 then quotes as any text.
    restored: list[str] = []

    def attribute_filter(tag: str, attribute: str, value: str) -> str:
        if placeholder.search(value):
            restored.append(attribute)
            return placeholder.sub(as_written, value)
        return value

    protected = MATH.sub(stash, text)
    html = markdown.markdown(protected, extensions=MARKDOWN_EXTENSIONS, extension_configs=MARKDOWN_CONFIG)
    clean = _clean(html, attribute_filter=attribute_filter)
    if restored:
        # nh3 checks URL schemes before the filter runs, and written math may
        # spell one (`[b]($javascript:...$)`): check the restored values again.
        clean = _clean(clean)
    # Code shows what was written; elsewhere math becomes a span for KaTeX.
    clean = CODE.sub(lambda code: placeholder.sub(lambda m: escape(as_written(m)), code.group(0)), clean)
    return mark_safe(placeholder.sub(as_math, clean))  # sanitised above
