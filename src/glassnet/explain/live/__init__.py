"""The live glass box: a local web page showing a model learning on its own data.

``LiveView`` is the callback (``fit(..., callbacks=[LiveView(x, y)])``), ``serve`` shows a
trained model. The page's server needs Tornado (``pip install tornado``); it is
imported only when a page starts, and nothing here is imported by ``import glassnet``.
See ``docs/live.md``.
"""

from glassnet.explain.live.callback import LiveView, serve

__all__ = ["LiveView", "serve"]
