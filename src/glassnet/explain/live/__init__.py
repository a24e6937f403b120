"""The live glass box: a local web page showing a model learning on its own data.

``LiveView`` is the callback (``fit(..., callbacks=[LiveView(x, y)])``), ``serve`` shows a
trained model. The page's server needs Tornado (``pip install tornado``); it is
imported only when a page starts, and nothing here is imported by ``import glassnet``.
The page is plain HTML and JavaScript (``static/``, no build step) with uPlot 1.6.32 for the
charts, vendored as its minified file with its MIT licence (``static/uPlot.LICENSE``; from
``npm pack uplot``). See ``docs/live.md``.
"""

from glassnet.explain.live.callback import LiveView, serve

__all__ = ["LiveView", "serve"]
