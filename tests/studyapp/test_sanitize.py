"""The XSS sanitiser, without a browser: what untrusted Markdown with math becomes.

The output is parsed back (html.parser) and checked structurally: only the
allowed tags, no event handler or style attribute, links only to http(s) or
mailto (after entity decoding and the whitespace and control characters a
browser ignores in a scheme), every link with rel=noopener. The payloads are
the usual published ones (OWASP's XSS filter evasion cheat sheet, PortSwigger's
XSS cheat sheet, the classic mutation-XSS cases), written into every place
Markdown puts text: plain text, links, titles, images, code and math.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from studyapp.sanitize import ATTRIBUTES, TAGS, render_markdown

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://xss.example/xss.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<img src=`javascript:alert(1)`>",
    "<IMG SRC=\"jav&#x09;ascript:alert('XSS');\">",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="JaVaScRiPt:alert(1)">x</a>',
    '<a href=" &#14;  javascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html,<script>alert(1)</script>">x</a>',
    '<a href="http://ok.example" onclick="alert(1)">x</a>',
    '<p onmouseover="alert(1)">hover</p>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<span style="position:fixed;top:0;left:0;width:100%;height:100%">cover</span>',
    "<style>@import 'http://xss.example/x.css';</style>",
    '<link rel="stylesheet" href="http://xss.example/x.css">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    '<form action="javascript:alert(1)"><button>x</button></form>',
    "<input autofocus onfocus=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
    "<!--<img src=x onerror=alert(1)>-->",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](  javascript:alert(1))",
    "[x](java\tscript:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[x](vbscript:msgbox(1))",
    '[x](http://ok.example "title" onmouseover="alert(1)")',
    '[x](http://ok.example "a\\" onmouseover=\\"alert(1))',
    "[x][r]\n\n[r]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "![x](http://img.example/x.png)",
    "![x](javascript:alert(1))",
    '![x](http://img.example/x.png" onerror="alert(1))',
    "$<script>alert(1)</script>$",
    "$$<img src=x onerror=alert(1)>$$",
    "\\(<svg onload=alert(1)>\\)",
    "\\[<iframe src=javascript:alert(1)>\\]",
    "$\\href{javascript:alert(1)}{x}$",
    "[b]($javascript:alert(1)$)",
    '[b](http://ok.example "$x" onmouseover="alert(1)$")',
    "[$<img src=x onerror=alert(1)>$](http://ok.example)",
    "`<script>alert(1)</script>`",
    "```\n<script>alert(1)</script>\n```",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
]
SAFE_SCHEMES = ("http:", "https:", "mailto:")
# Attributes the sanitiser itself adds: rel on links, the class of a math span.
EXTRA_ATTRIBUTES = {"a": {"rel"}, "span": {"class"}}


class Parsed(HTMLParser):
    """The elements (tag, attributes) and the visible text of a fragment."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {name: value or "" for name, value in attrs}))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def links(self) -> list[dict[str, str]]:
        return [attrs for tag, attrs in self.elements if tag == "a"]


def _scheme(url: str) -> str | None:
    """The scheme a browser would see (WHATWG URL parsing): leading and trailing C0 controls
    and spaces are stripped, tabs and newlines removed anywhere."""
    squeezed = re.sub(r"[\t\n\r]", "", url.strip("".join(map(chr, range(0x21))))).lower()
    match = re.match(r"([a-z][a-z0-9+.\-]*):", squeezed)
    return match.group(0) if match else None


def _assert_inert(html: str) -> Parsed:
    parsed = Parsed(html)
    for tag, attrs in parsed.elements:
        assert tag in TAGS, (tag, html)
        allowed = set(ATTRIBUTES.get(tag, set())) | EXTRA_ATTRIBUTES.get(tag, set())
        assert set(attrs) <= allowed, (tag, attrs, html)
        if tag == "span":
            assert attrs.get("class") in (None, "math math-inline", "math math-display"), html
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer nofollow", html
            if "href" in attrs:
                scheme = _scheme(attrs["href"])
                assert scheme is None or scheme in SAFE_SCHEMES, (attrs["href"], html)
    return parsed


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert(payload):
    _assert_inert(str(render_markdown(payload)))


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_renders_inert_inside_markdown(payload):
    """The same payloads nested in a list, a quote, emphasis and a link text."""
    text = f"- item {payload}\n\n> quoted {payload}\n\n**bold {payload}** and [link {payload}](http://ok.example)"
    _assert_inert(str(render_markdown(text)))


def test_unknown_tags_keep_their_text_as_text():
    parsed = _assert_inert(str(render_markdown("<script>alert(1)</script> and <b>bold</b>")))
    assert "alert(1)" not in "".join(parsed.text)  # script content is dropped, not shown
    assert ("b", {}) in parsed.elements and "bold" in parsed.text


def test_math_stays_escaped_text_for_katex():
    html = str(render_markdown(r"Inline $a<b & c_1*d_2$, display $$x^2 \over y$$, \(p_i\) and \[q_j\]."))
    assert '<span class="math math-inline">a&lt;b &amp; c_1*d_2</span>' in html
    assert '<span class="math math-display">x^2 \\over y</span>' in html
    assert '<span class="math math-inline">p_i</span>' in html
    assert '<span class="math math-display">q_j</span>' in html
    assert "<em>" not in html  # the underscores and stars inside formulas are not emphasis


def test_a_dollar_amount_is_not_math():
    html = str(render_markdown("It costs $5 and $10."))
    assert "math" not in html and "$5 and $10" in html


def test_markdown_features_are_kept():
    text = (
        "# Title\n\n*em* **strong** ~~no~~ `code`\n\n1. one\n2. two\n\n- a\n- b\n\n"
        "> quote\n\n```\nfenced <b>\n```\n\n| left | right |\n|:-----|------:|\n| 1 | 2 |\n\n"
        '---\n\n[site](https://example.org "Title") and <mailto:x@example.org>\n'
    )
    parsed = _assert_inert(str(render_markdown(text)))
    tags = [tag for tag, _ in parsed.elements]
    for tag in (
        "h1",
        "em",
        "strong",
        "code",
        "ol",
        "ul",
        "li",
        "blockquote",
        "pre",
        "table",
        "th",
        "td",
        "hr",
    ):
        assert tag in tags, tag
    assert ("th", {"align": "left"}) in parsed.elements and ("td", {"align": "right"}) in parsed.elements
    site = parsed.links()[0]
    assert site["href"] == "https://example.org" and site["title"] == "Title"
    assert "fenced <b>\n" in parsed.text  # code is shown as text


def test_empty_text_renders_nothing():
    assert render_markdown("") == ""


# Issue 13: math inside a link's title or URL broke the markup (the restored
# <span> landed inside the attribute value).


def test_math_in_a_link_title_stays_in_the_title():
    parsed = _assert_inert(str(render_markdown('[b](http://e "$a$ tail")')))
    assert parsed.links() == [
        {"href": "http://e", "title": "$a$ tail", "rel": "noopener noreferrer nofollow"}
    ]
    assert "".join(parsed.text) == "b"


def test_math_in_a_link_url_stays_in_the_url():
    parsed = _assert_inert(str(render_markdown("[b](http://e/$x$) and <http://e/$y$>")))
    assert [link["href"] for link in parsed.links()] == ["http://e/$x$", "http://e/$y$"]
    assert all(link["rel"] == "noopener noreferrer nofollow" for link in parsed.links())


def test_math_in_a_reference_link_title():
    parsed = _assert_inert(str(render_markdown('[b][r] then $z$\n\n[r]: http://e "$\\alpha$ & \\"q\\""')))
    assert parsed.links()[0]["title"] == '$\\alpha$ & \\"q\\"'
    assert "".join(parsed.text).strip() == "b then z"


@pytest.mark.parametrize("url", ["$javascript:alert(1)$", "\\(javascript:alert(1)\\)", "-$x$:alert(1)"])
def test_math_that_spells_a_script_url_stays_a_relative_link(url):
    """Restored as written, the URL starts with a delimiter, never a scheme; nh3 checks it again."""
    parsed = _assert_inert(str(render_markdown(f"[b]({url})")))
    (link,) = parsed.links()
    assert _scheme(link.get("href", "")) is None


def test_math_in_code_is_shown_as_written():
    parsed = _assert_inert(str(render_markdown("`$a$` and\n\n```\n$$b$$\n```\n\nbut $c$")))
    assert "$a$" in parsed.text and "$$b$$\n" in parsed.text
    spans = [attrs for tag, attrs in parsed.elements if tag == "span"]
    assert spans == [{"class": "math math-inline"}]  # only $c$ is math
