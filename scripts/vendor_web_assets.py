#!/usr/bin/env python3
"""Refresh the vendored front-end assets from the npm registry (exact versions: web/package.json
and web/package-lock.json): `npm ci` in web/, then copy the files the Data Docs and reports load
into plugins/loyalty/quality/web_assets.zip, with MANIFEST.json (package, version, licence,
sha256) and each package's licence text. The pages then load nothing from the network.

    python scripts/vendor_web_assets.py          # after changing a version in web/package.json: npm install first
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WEB = REPO / "web"
OUT = REPO / "plugins" / "loyalty" / "quality" / "web_assets"
ARCHIVE = OUT.with_suffix(".zip")  # the files themselves, one archive (third-party code, kept whole)
# (package, file in the package, vendored path)
FILES = [
    ("jquery", "dist/jquery.min.js", "jquery/jquery.min.js"),
    ("popper.js", "dist/umd/popper.min.js", "popper.js/popper.min.js"),
    ("bootstrap", "dist/css/bootstrap.min.css", "bootstrap/bootstrap.min.css"),
    ("bootstrap", "dist/js/bootstrap.min.js", "bootstrap/bootstrap.min.js"),
    ("bootstrap-table", "dist/bootstrap-table.min.css", "bootstrap-table/bootstrap-table.min.css"),
    ("bootstrap-table", "dist/bootstrap-table.min.js", "bootstrap-table/bootstrap-table.min.js"),
    ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
     "bootstrap-table/bootstrap-table-filter-control.min.css"),
    ("bootstrap-table", "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
     "bootstrap-table/bootstrap-table-filter-control.min.js"),
    ("bootstrap-datepicker", "dist/css/bootstrap-datepicker.min.css", "bootstrap-datepicker/bootstrap-datepicker.min.css"),
    ("bootstrap-datepicker", "dist/js/bootstrap-datepicker.min.js", "bootstrap-datepicker/bootstrap-datepicker.min.js"),
    ("@fortawesome/fontawesome-free", "css/all.min.css", "fontawesome/css/all.min.css"),
    ("@forevolve/bootstrap-dark", "dist/css/bootstrap-prefers-dark.css", "bootstrap-dark/bootstrap-prefers-dark.css"),
    ("vega", "build/vega.min.js", "vega/vega.min.js"),
    ("vega-lite", "build/vega-lite.min.js", "vega-lite/vega-lite.min.js"),
    ("vega-embed", "build/vega-embed.min.js", "vega-embed/vega-embed.min.js"),
    # a CJK font (headless Chromium and many servers have none): Noto Sans SC, Google Fonts'
    # chinese-simplified subset, regular and bold; pages embed a per-page subset of it
    # (loyalty.quality.fonts), so a report carries kilobytes, not the 1.6 MB file; WOFF (zlib),
    # not WOFF2: fontTools reads it in 0.2 s, a WOFF2 (brotli, rebuilt glyphs) in 4-9 s
    ("@fontsource/noto-sans-sc", "files/noto-sans-sc-chinese-simplified-400-normal.woff",
     "fonts/noto-sans-sc-chinese-simplified-400-normal.woff"),
    ("@fontsource/noto-sans-sc", "files/noto-sans-sc-chinese-simplified-700-normal.woff",
     "fonts/noto-sans-sc-chinese-simplified-700-normal.woff"),
]
FOLDERS = [("@fortawesome/fontawesome-free", "webfonts", "fontawesome/webfonts")]
LICENSE_NAMES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENSE-MIT", "license")


def main() -> int:
    subprocess.run(["npm", "ci", "--ignore-scripts"], cwd=WEB, check=True)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    manifest: dict[str, dict[str, str]] = {}
    copies = [(p, src, dst) for p, src, dst in FILES]
    for pkg, src, dst in FOLDERS:
        for f in sorted((WEB / "node_modules" / pkg / src).iterdir()):
            copies.append((pkg, f"{src}/{f.name}", f"{dst}/{f.name}"))
    for pkg, src, dst in copies:
        meta = json.loads((WEB / "node_modules" / pkg / "package.json").read_text())
        target = OUT / dst
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(WEB / "node_modules" / pkg / src, target)
        manifest[dst] = {"package": pkg, "version": meta["version"], "license": str(meta.get("license")),
                         "file": src, "sha256": hashlib.sha256(target.read_bytes()).hexdigest()}
        (OUT / "licenses").mkdir(exist_ok=True)
        notice = OUT / "licenses" / f"{pkg.replace('/', '__')}-{meta['version']}.txt"
        for name in LICENSE_NAMES:
            lic = WEB / "node_modules" / pkg / name
            if lic.exists():
                shutil.copyfile(lic, notice)
                break
        else:  # the package ships no licence text: its declared licence and where it lives
            repo = meta.get("repository")
            repo = repo.get("url") if isinstance(repo, dict) else repo
            notice.write_text(f"{pkg} {meta['version']}: licence {meta.get('license')} (declared in its package.json; "
                              f"the npm package ships no licence text). Source: {repo or meta.get('homepage')}\n")
    (OUT / "MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    import zipfile

    with zipfile.ZipFile(ARCHIVE, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(OUT.rglob("*")):
            if f.is_file():
                z.write(f, f.relative_to(OUT).as_posix())
    shutil.rmtree(OUT)
    print(f"vendored {len(manifest)} files into {ARCHIVE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
