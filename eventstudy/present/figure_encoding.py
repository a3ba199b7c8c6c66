"""A figure stored as bytes in each asked format: PNG as an 8-bit palette image (flat colours, a third of
a true-colour PNG's size, which keeps the one-file HTML report small), SVG with its text kept as text.
"""
from __future__ import annotations

import io
from typing import Sequence

from matplotlib import rc_context
from matplotlib.figure import Figure

__all__ = ["figure_bytes"]


def _png_bytes(fig: Figure, dpi: int) -> bytes:
    """The figure drawn by Agg at ``dpi`` and stored as an 8-bit palette PNG (at most 256 colours, no
    dithering): the figures are flat colours, lines and text, so it looks the same at a third of the
    size of a true-colour PNG, which keeps the one-file HTML report small."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    old = fig.dpi
    fig.set_dpi(dpi)
    try:
        canvas.draw()
        w, h = canvas.get_width_height(physical=True)
        img = Image.frombuffer("RGBA", (w, h), bytes(canvas.buffer_rgba()), "raw", "RGBA", 0, 1).convert("RGB")
    finally:
        fig.set_dpi(old)
    pal = img.quantize(colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE)
    out = io.BytesIO()
    pal.save(out, format="PNG", optimize=False, compress_level=6, dpi=(dpi, dpi))
    return out.getvalue()


def figure_bytes(fig: Figure, formats: Sequence[str], dpi: int) -> dict[str, bytes]:
    """The figure drawn in each of ``formats`` (``png``: 8-bit palette PNG; ``svg``: text kept as text)."""
    out = {}
    for i, fmt in enumerate(formats):
        buf = io.BytesIO()
        if fmt == "png":
            buf.write(_png_bytes(fig, dpi))
        else:
            with rc_context({"svg.fonttype": "none"}):   # SVG text stays text: searchable, small
                fig.savefig(buf, format=fmt, dpi=dpi)
        if i == 0:
            # keep the positions the first render laid out: later formats skip the constrained-layout
            # pass (about half of a figure's saving time)
            fig.set_layout_engine("none")
        out[fmt] = buf.getvalue()
    return out
