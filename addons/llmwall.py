"""llmwall: an LLM firewall for mitmproxy.

    mitmdump -s addons/llmwall.py            (or mitmweb -s addons/llmwall.py)

Works from any working directory: the packages next to this file are put on sys.path.
"""

import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)

from llmwall_addon.guard import LLMWall  # noqa: E402
from llmwall_addon.views import ContentViews  # noqa: E402

addons = [LLMWall(), ContentViews()]
