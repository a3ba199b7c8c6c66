"""Marked sections of a report file: an additive section kept between two HTML comments, replaced in place."""
from __future__ import annotations

__all__ = ["replace_marked_section"]


def replace_marked_section(text: str, section: str, begin: str, end: str, before: str | None = None) -> str:
    """``text`` with the block ``begin, section, end`` replacing the one already there, else inserted before
    the last ``before`` (e.g. ``"<footer>"``), else appended after a blank line."""
    block = f"{begin}\n{section}\n{end}"
    if begin in text and end in text:
        a, b = text.index(begin), text.index(end) + len(end)
        return text[:a] + block + text[b:]
    if before and before in text:
        i = text.rindex(before)
        return text[:i] + block + "\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + block + "\n"


def with_toc_link(html: str, anchor: str, title: str) -> str:
    """``html`` with a link to ``#anchor`` at the end of the report's contents list (``<nav class="es-toc">``),
    once: a section added after the report was written is listed like the others."""
    import html as _html

    link = f'<a href="#{anchor}">{_html.escape(title)}</a>'
    start = html.find('<nav class="es-toc">')
    if start < 0:
        return html
    end = html.find("</nav>", start)
    if end < 0 or f'href="#{anchor}"' in html[start:end]:
        return html
    return html[:end] + " " + link + html[end:]
