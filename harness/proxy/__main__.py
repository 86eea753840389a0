"""`python -m harness.proxy SETTINGS.json`: the proxy process (from `.venv-proxy`, where mitmproxy is)."""

import asyncio
import sys
from pathlib import Path

from harness.proxy.master import serve
from harness.proxy.settings import ProxySettings

asyncio.run(serve(ProxySettings.read(Path(sys.argv[1]))))
