"""Report blocks of the content model and their renderers: :func:`render_html`, :func:`render_markdown`
and :func:`render_latex`, each one loop over the blocks (see :mod:`eventstudy.content`)."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Iterable, Sequence
from urllib.parse import quote, urlparse

from eventstudy.content.cells import html_text, latex_escape, md_text
from eventstudy.content.table import Table

__all__ = ["Block", "Header", "Heading", "Paragraph", "Callout", "DefinitionList", "Link", "TextTable", "Figure",
           "Details", "Only", "Comment", "PageBreak", "Footer", "Summary", "render_html", "render_markdown",
           "render_latex"]


class Block:
    """Base of the report blocks."""


@dataclass(frozen=True)
class Header(Block):
    """The document's title, a line under it, a banner (e.g. the SIMULATED warning) and a table of contents."""

    title: str
    subtitle: str = ""
    banner: str = ""
    toc: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Heading(Block):
    """A section (level 2) or sub-section (level 3) heading; ``anchor``: its HTML id."""

    text: str
    level: int = 2
    anchor: str = ""


@dataclass(frozen=True)
class Paragraph(Block):
    """Plain text (escaped by every renderer); ``strong``: a bold lead-in."""

    text: str
    strong: str = ""


@dataclass(frozen=True)
class Callout(Block):
    """A highlighted box: a bold title and a bullet list; ``kind`` adds a CSS class."""

    title: str
    items: tuple[str, ...] = ()
    kind: str = ""


@dataclass(frozen=True)
class DefinitionList(Block):
    """Term: description pairs."""

    items: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Link:
    """A cell or text that is a link when it is an http(s) URL (shown as its host)."""

    url: str


@dataclass(frozen=True)
class TextTable(Block):
    """A table of text cells (str or :class:`Link`): ``numeric`` columns right-aligned, ``long_cols`` wrap.
    ``caption`` is shown in HTML."""

    headers: tuple[str, ...]
    rows: tuple[tuple, ...]
    numeric: tuple[bool, ...] = ()
    long_cols: tuple[int, ...] = ()
    caption: str = ""
    empty: str = "(none)"


@dataclass(frozen=True)
class Figure(Block):
    """An image: ``data`` (PNG or SVG bytes, embedded in HTML), ``href`` (relative link in Markdown/LaTeX)."""

    caption: str
    data: bytes = b""
    mime: str = "image/png"
    href: str = ""


@dataclass(frozen=True)
class Details(Block):
    """Folded content (HTML ``<details>``). ``open``: unfolded; Markdown shows open content unfolded."""

    summary: str
    blocks: tuple = ()
    open: bool = False


@dataclass(frozen=True)
class Only(Block):
    """Blocks shown in some formats only (``formats`` from ``html``, ``md``, ``latex``)."""

    formats: tuple[str, ...]
    blocks: tuple = ()


@dataclass(frozen=True)
class Comment(Block):
    """Lines shown as a comment (LaTeX ``%``, HTML ``<!-- -->``; not in Markdown)."""

    lines: tuple[str, ...] = ()


@dataclass(frozen=True)
class PageBreak(Block):
    """A new page (LaTeX ``\\clearpage``)."""


@dataclass(frozen=True)
class Footer(Block):
    """A closing line (HTML ``<footer>``)."""

    text: str


class Summary(str):
    """A results summary: its text (it is a ``str``) and the same content as blocks (``as_html``,
    ``as_markdown``, ``_repr_html_`` for notebooks)."""

    blocks: tuple

    def __new__(cls, text: str, blocks: Sequence[Block] = ()):
        obj = super().__new__(cls, text)
        obj.blocks = tuple(blocks)
        return obj

    def __reduce__(self):
        return (Summary, (str(self), self.blocks))

    def as_text(self) -> str:
        """The text summary."""
        return str.__str__(self)

    def as_html(self) -> str:
        """The summary as an HTML fragment."""
        return '<div class="es-summary">\n' + render_html(self.blocks) + "</div>\n"

    def as_markdown(self) -> str:
        """The summary as Markdown."""
        return render_markdown(self.blocks)

    def _repr_html_(self) -> str:
        return self.as_html()


# ----------------------------------------------------------------------------- links
def _is_url(s: str) -> bool:
    try:
        u = urlparse(str(s))
    except ValueError:
        return False
    return u.scheme in ("http", "https") and bool(u.netloc)


def _host(url: str) -> str:
    host = urlparse(url).netloc
    return host[4:] if host.startswith("www.") else host


#: characters kept as they are in a Markdown link target; ``( ) < > [ ] " ' \`` and spaces are %-encoded
_URL_SAFE = ":/?#&=%;,+~!$*@.-_"


def _cell_html(c) -> str:
    if isinstance(c, Link):
        s = c.url
        return f'<a href="{html_text(s)}" rel="noopener noreferrer">{html_text(_host(s))}</a>' if _is_url(s) else html_text(s)
    return html_text(c)


def _cell_md(c) -> str:
    if isinstance(c, Link):
        s = c.url
        return f"[{md_text(_host(s))}]({quote(str(s), safe=_URL_SAFE)})" if _is_url(s) else md_text(s)
    return md_text(c)


def _cell_latex(c) -> str:
    return latex_escape(c.url if isinstance(c, Link) else c)


# ----------------------------------------------------------------------------- HTML
def _html_text_table(b: TextTable) -> str:
    numeric = list(b.numeric) or [False] * len(b.headers)
    out = ['<div class="es-table-wrap"><table class="es-table">']
    if b.caption:
        out.append(f"<caption>{html_text(b.caption)}</caption>")
    out.append("<thead><tr>" + "".join(f'<th class="{"num" if n else "txt"}">{html_text(h)}</th>'
                                       for h, n in zip(b.headers, numeric)) + "</tr></thead><tbody>")
    for r in b.rows:
        cells = []
        for j, (c, n) in enumerate(zip(r, numeric)):
            cls = "num" if n else ("txt long" if j in b.long_cols else ("txt nowrap" if j == 0 else "txt"))
            cells.append(f'<td class="{cls}">{_cell_html(c)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    if not b.rows:
        out.append(f'<tr><td class="txt na" colspan="{len(b.headers)}">{html_text(b.empty)}</td></tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out) + "\n"


def _html_block(b) -> str:
    if isinstance(b, Header):
        banner = f'<div class="es-banner" role="alert">{html_text(b.banner)}</div>\n' if b.banner else ""
        toc = " ".join(f'<a href="#{k}">{html_text(v)}</a>' for k, v in b.toc)
        nav = f'<nav class="es-toc">{toc}</nav>' if b.toc else ""
        return (f'{banner}\n<header class="es-head"><h1>{html_text(b.title)}</h1><p class="es-sub">{html_text(b.subtitle)}</p>'
                f"{nav}</header>\n<main>")
    if isinstance(b, Heading):
        ida = f' id="{html_text(b.anchor)}"' if b.anchor else ""
        return f"<h{b.level}{ida}>{html_text(b.text)}</h{b.level}>"
    if isinstance(b, Paragraph):
        lead = f"<strong>{html_text(b.strong)}</strong> " if b.strong else ""
        return f"<p>{lead}{html_text(b.text)}</p>"
    if isinstance(b, Callout):
        kind = f" es-{b.kind}" if b.kind else ""
        return (f'<div class="es-callout{kind}"><strong>{html_text(b.title)}</strong><ul>'
                + "".join(f"<li>{html_text(i)}</li>" for i in b.items) + "</ul></div>")
    if isinstance(b, DefinitionList):
        return '<dl class="es-setup">' + "".join(f"<dt>{html_text(k)}</dt><dd>{html_text(v)}</dd>" for k, v in b.items) + "</dl>"
    if isinstance(b, TextTable):
        return _html_text_table(b)
    if isinstance(b, Table):
        return b.as_html()
    if isinstance(b, Figure):
        src = f"data:{b.mime};base64,{base64.b64encode(b.data).decode('ascii')}"
        return (f'<figure><img src="{src}" alt="{html_text(b.caption)}">'
                f"<figcaption>{html_text(b.caption)}</figcaption></figure>")
    if isinstance(b, Details):
        body = "".join(_html_block(c) for c in b.blocks)
        return f"<details{' open' if b.open else ''}><summary>{html_text(b.summary)}</summary>\n{body}</details>\n"
    if isinstance(b, Only):
        return "\n".join(_html_block(c) for c in b.blocks) if "html" in b.formats else None
    if isinstance(b, Comment):
        return "<!-- " + html_text(" ".join(b.lines)).replace("--", "- -") + " -->"
    if isinstance(b, PageBreak):
        return None
    if isinstance(b, Footer):
        return f"<footer>{html_text(b.text)}</footer>\n</main>"
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_html(blocks: Iterable[Block], title: str | None = None, css: str = "") -> str:
    """The blocks as HTML: a fragment, or with ``title`` one self-contained document (``css`` inline,
    images as data URIs, nothing fetched from elsewhere)."""
    parts = [h for h in (_html_block(b) for b in blocks) if h is not None]
    if title is None:
        return "\n".join(parts) + "\n"
    doc = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
           "style-src 'unsafe-inline'\">",
           f"<title>{html_text(title)}</title>", f"<style>{css}</style></head><body>", *parts, "</body></html>"]
    return "\n".join(doc) + "\n"


# ----------------------------------------------------------------------------- Markdown
def _md_text_table(b: TextTable) -> str:
    out = ["| " + " | ".join(md_text(h) for h in b.headers) + " |", "|" + "|".join(":---" for _ in b.headers) + "|"]
    out += ["| " + " | ".join(_cell_md(c) for c in r) + " |" for r in b.rows]
    if not b.rows:
        out.append("| " + " | ".join([b.empty] + [""] * (len(b.headers) - 1)) + " |")
    return "\n".join(out) + "\n"


def _md_lines(b) -> list[str]:
    if isinstance(b, Header):
        out = [f"# {md_text(b.title)}", ""]
        if b.banner:
            out += [f"> **{md_text(b.banner)}**", ""]
        return out + ([md_text(b.subtitle), ""] if b.subtitle else [])
    if isinstance(b, Heading):
        return ["#" * b.level + f" {b.text}", ""]
    if isinstance(b, Paragraph):
        return [(f"**{md_text(b.strong)}** " if b.strong else "") + md_text(b.text), ""]
    if isinstance(b, Callout):
        return [f"> **{md_text(b.title)}**", ">"] + [f"> - {md_text(i)}" for i in b.items] + [""]
    if isinstance(b, DefinitionList):
        return [f"- **{md_text(k)}**: {md_text(v)}" for k, v in b.items] + [""]
    if isinstance(b, TextTable):
        return [_md_text_table(b), ""]
    if isinstance(b, Table):
        return [b.as_markdown(), ""]
    if isinstance(b, Figure):
        return [f"![{md_text(b.caption)}]({b.href})", "", f"*{md_text(b.caption)}*", ""]
    if isinstance(b, Details):
        inner = [x for c in b.blocks for x in _md_lines(c)]
        if b.open:
            return inner
        while inner and inner[-1] == "":
            inner.pop()
        return [f"<details><summary>{html_text(b.summary)}</summary>", "", "\n".join(inner), "</details>", ""]
    if isinstance(b, Only):
        return [x for c in b.blocks for x in _md_lines(c)] if "md" in b.formats else []
    if isinstance(b, (Comment, PageBreak, Footer)):
        return []
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_markdown(blocks: Iterable[Block]) -> str:
    """The blocks as Markdown (tables as pipe tables, folded content as ``<details>``, figures as links)."""
    lines = [x for b in blocks for x in _md_lines(b)]
    return "\n".join(lines).rstrip() + "\n"


# ----------------------------------------------------------------------------- LaTeX
def _latex_block(b) -> str | None:
    if isinstance(b, Comment):
        return "\n".join(f"% {ln}" for ln in b.lines) + "\n"
    if isinstance(b, PageBreak):
        return "\\clearpage\n"
    if isinstance(b, Table):
        return b.as_latex()
    if isinstance(b, Header):
        return f"\\section*{{{latex_escape(b.title)}}}\n" + (f"\\textbf{{{latex_escape(b.banner)}}}\n" if b.banner else "")
    if isinstance(b, Heading):
        return f"\\{'sub' * (b.level - 2)}section*{{{latex_escape(b.text)}}}\n"
    if isinstance(b, Paragraph):
        return (f"\\textbf{{{latex_escape(b.strong)}}} " if b.strong else "") + latex_escape(b.text) + "\n"
    if isinstance(b, Callout):
        return (f"\\paragraph{{{latex_escape(b.title)}}}\n\\begin{{itemize}}\n"
                + "".join(f"\\item {latex_escape(i)}\n" for i in b.items) + "\\end{itemize}\n")
    if isinstance(b, DefinitionList):
        return ("\\begin{description}\n" + "".join(f"\\item[{latex_escape(k)}] {latex_escape(v)}\n" for k, v in b.items)
                + "\\end{description}\n")
    if isinstance(b, TextTable):
        body = "".join(" & ".join(_cell_latex(c) for c in r) + " \\\\\n" for r in b.rows)
        return (f"\\begin{{tabular}}{{{'l' * max(len(b.headers), 1)}}}\n\\toprule\n"
                + " & ".join(latex_escape(h) for h in b.headers) + " \\\\\n\\midrule\n" + body
                + "\\bottomrule\n\\end{tabular}\n")
    if isinstance(b, Figure):
        return (f"\\begin{{figure}}[htbp]\\centering\\includegraphics[width=\\linewidth]{{{b.href}}}"
                f"\\caption{{{latex_escape(b.caption)}}}\\end{{figure}}\n") if b.href else None
    if isinstance(b, (Details, Only)):
        if isinstance(b, Only) and "latex" not in b.formats:
            return None
        inner = [x for x in (_latex_block(c) for c in b.blocks) if x is not None]
        return "\n".join(inner) if inner else None
    if isinstance(b, Footer):
        return None
    raise TypeError(f"not a report block: {type(b).__name__}")


def render_latex(blocks: Iterable[Block]) -> str:
    """The blocks as LaTeX (tables as booktabs ``table`` environments: ``\\usepackage{booktabs}``)."""
    return "\n".join(x for x in (_latex_block(b) for b in blocks) if x is not None)
