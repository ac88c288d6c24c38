"""Data Docs that work from disk, with no network.

GX renders pages that load jQuery, Bootstrap, bootstrap-table, the datepicker, Font Awesome
and Vega from public CDNs, and its logo from S3 with the data context id in the query string;
GX has no setting for local assets. After every Data Docs build, :func:`localize` copies the
vendored assets (``web_assets.zip``: exact versions from the npm registry, with MANIFEST.json
and their licences; ``scripts/vendor_web_assets.py`` refreshes them) into the site's
``static/vendor/`` and rewrites every page's CDN and S3 references to relative paths. Nothing a
page loads leaves the machine, and no identifier of the deployment is sent anywhere.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import zipfile
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).with_name("web_assets.zip")
VENDOR = "static/vendor"
# CDN address (a regular expression, to the end of the URL) -> vendored file
URLS: list[tuple[str, str]] = [
    (r"https://code\.jquery\.com/jquery-3\.7\.1\.min\.js", "jquery/jquery.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/popper\.js/1\.12\.9/umd/popper\.min\.js", "popper.js/popper.min.js"),
    (r"https://maxcdn\.bootstrapcdn\.com/bootstrap/4\.3\.1/css/bootstrap\.min\.css", "bootstrap/bootstrap.min.css"),
    (r"https://stackpath\.bootstrapcdn\.com/bootstrap/4\.3\.1/js/bootstrap\.min\.js", "bootstrap/bootstrap.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/bootstrap-table\.min\.css", "bootstrap-table/bootstrap-table.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/bootstrap-table\.min\.js", "bootstrap-table/bootstrap-table.min.js"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/extensions/filter-control/bootstrap-table-filter-control(\.min)?\.css",
     "bootstrap-table/bootstrap-table-filter-control.min.css"),
    (r"https://unpkg\.com/bootstrap-table@1\.19\.[01]/dist/extensions/filter-control/bootstrap-table-filter-control(\.min)?\.js",
     "bootstrap-table/bootstrap-table-filter-control.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/css/bootstrap-datepicker\.min\.css",
     "bootstrap-datepicker/bootstrap-datepicker.min.css"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/bootstrap-datepicker/1\.9\.0/js/bootstrap-datepicker\.min\.js",
     "bootstrap-datepicker/bootstrap-datepicker.min.js"),
    (r"https://cdnjs\.cloudflare\.com/ajax/libs/font-awesome/6\.6\.0/css/all\.min\.css", "fontawesome/css/all.min.css"),
    (r"https://cdn\.jsdelivr\.net/npm/@forevolve/bootstrap-dark@1\.1\.0/dist/css/bootstrap-prefers-dark\.css",
     "bootstrap-dark/bootstrap-prefers-dark.css"),
    (r"https://cdn\.jsdelivr\.net/npm/vega@5", "vega/vega.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-lite@5", "vega-lite/vega-lite.min.js"),
    (r"https://cdn\.jsdelivr\.net/npm/vega-embed@6", "vega-embed/vega-embed.min.js"),
]
# GX's logos from S3 (one with the data context id in its query string) -> the copy GX ships
S3_IMAGE = re.compile(r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z0-9_./-]+(\?[^\"' )]*)?")
LOCAL_LOGO = "static/images/logo-long.png"
# anything a page would still *load* from the network: src=, <link href=, url(...)
REMOTE_LOAD = re.compile(r"""(?:\bsrc\s*=\s*["']|<link\b[^>]*\bhref\s*=\s*["']|url\(\s*["']?)https?://""", re.I)


def manifest() -> dict[str, dict[str, str]]:
    with zipfile.ZipFile(ASSETS) as z:
        return dict(json.loads(z.read("MANIFEST.json")))


def install_assets(site: Path) -> None:
    """Copy the vendored files into ``<site>/static/vendor`` (only those missing or changed,
    each checked against its sha256 in the manifest), with the licences and the manifest."""
    with zipfile.ZipFile(ASSETS) as z:
        wanted = json.loads(z.read("MANIFEST.json"))
        for name in z.namelist():
            target = site / VENDOR / name
            meta = wanted.get(name)
            if target.exists() and (meta is None or hashlib.sha256(target.read_bytes()).hexdigest() == meta["sha256"]):
                continue
            data = z.read(name)
            if meta is not None and hashlib.sha256(data).hexdigest() != meta["sha256"]:
                raise RuntimeError(f"vendored asset {name} does not match its manifest: re-run scripts/vendor_web_assets.py")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def _prefix(page: Path, site: Path) -> str:
    depth = len(page.relative_to(site).parts) - 1
    return "../" * depth


_COMPILED = [(re.compile(pattern + r"(?![\w.-])"), rel) for pattern, rel in URLS]


def localize_page(text: str, prefix: str) -> str:
    for pattern, rel in _COMPILED:
        text = pattern.sub(prefix + VENDOR + "/" + rel, text)
    return S3_IMAGE.sub(prefix + LOCAL_LOGO, text)


def localize(site: Path, since: float | None = None) -> int:
    """Make the site work offline: the assets in place, and every page written since ``since``
    (every page when None) pointing at them. Returns the number of pages rewritten; raises when a
    page would still load something from the network."""
    if not site.exists():
        return 0
    install_assets(site)
    n = 0
    for page in site.rglob("*.html"):
        if since is not None and page.stat().st_mtime < since:
            continue
        text = page.read_text(encoding="utf-8")
        new = localize_page(text, _prefix(page, site))
        remote = REMOTE_LOAD.search(new)
        if remote:
            raise RuntimeError(f"{page} still loads from the network: {new[remote.start():remote.start() + 120]!r}; "
                               "add the asset to loyalty.quality.offline_docs.URLS and scripts/vendor_web_assets.py")
        if new != text:
            tmp = page.with_suffix(".html.tmp")
            tmp.write_text(new, encoding="utf-8")
            os.replace(tmp, page)
            n += 1
    return n
