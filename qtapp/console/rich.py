"""The console's renderers, in their order of preference.

A bundle is shown by the first renderer in :data:`DEFAULT_PREFERENCE` that
has a representation for it (and, if that renderer declines, by the next):
vector images first, then raster images, rich text, math, and plain text
last. Pass another order to :func:`rich_registry`, or call
``console.registry.set_preference(...)``, to change it.
"""

from __future__ import annotations

from typing import Iterable, Optional

from .images import RasterRenderer, SvgRenderer
from .latex import LatexRenderer
from .renderers import RendererRegistry, TextPlainRenderer
from .richtext import HtmlRenderer, MarkdownRenderer

DEFAULT_PREFERENCE = (
    "image/svg+xml",
    "image/png",
    "image/jpeg",
    "text/html",
    "text/markdown",
    "text/latex",
    "text/plain",
)


def rich_registry(preference: Optional[Iterable[str]] = None) -> RendererRegistry:
    """Every renderer the console has, ordered by ``preference`` (default: :data:`DEFAULT_PREFERENCE`)."""
    registry = RendererRegistry()
    for renderer in (TextPlainRenderer(), LatexRenderer(), MarkdownRenderer(), HtmlRenderer(), RasterRenderer(),
                     SvgRenderer()):
        registry.register(renderer)
    order = list(preference) if preference is not None else list(DEFAULT_PREFERENCE)
    unknown = [m for m in order if m not in registry.preference]
    if unknown:
        raise ValueError(f"no renderer for {', '.join(unknown)} (known: {', '.join(registry.preference)})")
    registry.set_preference(order)
    return registry
