"""A font with Chinese glyphs for every page the project serves.

Headless Chromium, and many servers and laptops, have no CJK font: without one every Chinese
label renders as a box ("tofu"). The project ships Noto Sans SC (Google Fonts' chinese-simplified
subset, SIL Open Font Licence), regular and bold, pinned from the npm registry
(``@fontsource/noto-sans-sc``, in ``web_assets.zip``; ``scripts/vendor_web_assets.py`` refreshes
it). A page embeds a subset holding only the characters it shows (a few kilobytes, WOFF2, cut
with fontTools in about 0.2 s a weight), so a report stays one self-contained file; a server
(Superset) gets the whole files. The files are WOFF (zlib): fontTools reads a WOFF2 in 4-9 s.
"""

from __future__ import annotations

import base64
import io
import zipfile
from functools import lru_cache
from pathlib import Path

ASSETS = Path(__file__).with_name("web_assets.zip")
FAMILY = "Noto Sans SC"
WEIGHTS = (400, 700)
# the CSS font stack pages use: the shipped CJK font first for Chinese, then the system's fonts
FONT_STACK = f"'{FAMILY}', system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


def font_file_name(weight: int) -> str:
    return f"noto-sans-sc-chinese-simplified-{weight}-normal.woff"


@lru_cache(maxsize=len(WEIGHTS))
def font_bytes(weight: int = 400) -> bytes:
    """The whole shipped font file (WOFF) of a weight."""
    if weight not in WEIGHTS:
        raise ValueError(f"no shipped CJK font of weight {weight}; the weights are {WEIGHTS}")
    with zipfile.ZipFile(ASSETS) as z:
        try:
            return z.read(f"fonts/{font_file_name(weight)}")
        except KeyError as exc:
            raise RuntimeError(f"{ASSETS} has no fonts/{font_file_name(weight)}: re-run scripts/vendor_web_assets.py") from exc


def subset_woff2(text: str, weight: int = 400) -> bytes:
    """The font of ``weight`` cut down to the characters of ``text`` (woff2)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(io.BytesIO(font_bytes(weight)))
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=text)
    subsetter.subset(font)
    out = io.BytesIO()
    font.flavor = "woff2"
    font.save(out)
    return out.getvalue()


def font_face_css(text: str) -> str:
    """``@font-face`` rules that embed the subset of ``text``'s CJK characters (both weights),
    as data URLs. Empty when ``text`` has no character the font covers beyond ASCII."""
    chars = "".join(sorted({c for c in text if ord(c) > 0x7F}))
    if not chars:
        return ""
    rules = []
    for weight in WEIGHTS:
        data = base64.b64encode(subset_woff2(chars, weight)).decode("ascii")
        rules.append(
            f"@font-face {{ font-family: '{FAMILY}'; font-style: normal; font-weight: {weight}; font-display: block; "
            f"src: url(data:font/woff2;base64,{data}) format('woff2'); }}"
        )
    return "\n".join(rules)


def write_font_files(dest: Path) -> list[Path]:
    """The whole font files, for a server that serves them (Superset's static folder)."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for weight in WEIGHTS:
        path = dest / font_file_name(weight)
        data = font_bytes(weight)
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)
        written.append(path)
    return written
