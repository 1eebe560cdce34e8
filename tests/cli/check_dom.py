#!/usr/bin/python3
"""check_dom.py -- count what a page (or Chromium's --dump-dom of it) holds.

Usage: check_dom.py FILE ROWS [TEXT]
  Exit 0 when the table id="domains" has exactly ROWS data rows
  (<tr class="... domain ...">), the page has no <script>, <img>, <iframe>
  or <object> element and no on* event attribute at all, and (when TEXT is
  given) TEXT appears in the page's text content (not as markup).
Prints what it found.
"""
import sys
from html.parser import HTMLParser


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.in_domains = 0      # depth inside table#domains
        self.rows = 0
        self.bad = []            # active elements or event handlers found
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "img", "iframe", "object", "embed", "svg"):
            self.bad.append(tag)
        for k, _ in attrs:
            if k.startswith("on"):
                self.bad.append("%s[%s]" % (tag, k))
        if tag == "table":
            if self.in_domains:
                self.in_domains += 1
            elif a.get("id") == "domains":
                self.in_domains = 1
        if tag == "tr" and self.in_domains == 1 and \
                "domain" in (a.get("class") or "").split():
            self.rows += 1

    def handle_endtag(self, tag):
        if tag == "table" and self.in_domains:
            self.in_domains -= 1

    def handle_data(self, data):
        self.text.append(data)


path, want = sys.argv[1], int(sys.argv[2])
needle = sys.argv[3] if len(sys.argv) > 3 else None
p = Page()
p.feed(open(path, encoding="utf-8", errors="replace").read())
text = "".join(p.text)
ok = p.rows == want and not p.bad
found = needle is None or needle in text
print("rows=%d want=%d active=%s text=%s" % (p.rows, want, p.bad or "none",
      "n/a" if needle is None else ("found" if found else "missing")))
sys.exit(0 if ok and found else 1)
