"""Copies the pinned front-end libraries from node_modules into static files (no CDN, ever)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "src" / "livingroom" / "web" / "static" / "vendor"
FILES = {
    "weui/dist/style/weui.min.css": "weui/weui.min.css",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "axe-core/axe.min.js": "axe-core/axe.min.js",
    "echarts/dist/echarts.min.js": "echarts/echarts.min.js",
}


def main() -> int:
    missing = []
    for src, dst in FILES.items():
        source = ROOT / "node_modules" / src
        if not source.exists():
            missing.append(src)
            continue
        target = DEST / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
    if missing:
        print("missing in node_modules (run npm ci):", ", ".join(missing), file=sys.stderr)
        return 1
    print(f"copied {len(FILES)} front-end files into {DEST.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
