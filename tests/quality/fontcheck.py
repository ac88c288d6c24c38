"""Does a page draw its Chinese text with the shipped font, or as boxes ("tofu")?

Headless Chromium here has no CJK font: without the embedded Noto Sans SC every Chinese character
falls back to the .notdef box of a Latin font. Three independent checks, run in the page:

* the font faces of the family are declared and ``loaded``, and ``document.fonts.check`` agrees
  (``check`` alone says true when no face is declared at all);
* Chromium's own record of the fonts that drew an element (DevTools ``CSS.getPlatformFontsForNode``)
  names the embedded font, with a glyph for every Chinese character of the element;
* the element's Chinese characters, measured in the element's own font, are one em each, as Noto
  Sans SC draws them, and not as wide as in a family that does not exist (the .notdef width).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from loyalty.quality.fonts import FAMILY

CJK = re.compile(r"[\u3400-\u9fff]")

def chromium() -> str:
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
    if exe is None:
        pytest.fail("chromium is not installed: run `apt-get install -y chromium` (as root) and re-run")
    return exe


_MEASURE = """([selector, probe]) => {
  const el = Array.from(document.querySelectorAll(selector)).find(e => /[\u3400-\u9fff]/.test(e.textContent));
  if (!el) return null;
  el.setAttribute('data-font-probe', probe);
  const cjk = Array.from(el.textContent).filter(c => /[\\u3400-\\u9fff]/.test(c)).join('');
  const cs = getComputedStyle(el);
  function width(family) {
    let node, w;
    if (el instanceof SVGElement) {
      node = document.createElementNS('http://www.w3.org/2000/svg', 'text');
      node.setAttribute('font-family', family);
      node.setAttribute('font-size', cs.fontSize);
      node.setAttribute('font-weight', cs.fontWeight);
      node.textContent = cjk;
      el.ownerSVGElement.appendChild(node);
      w = node.getComputedTextLength();
    } else {
      node = document.createElement('span');
      node.style.cssText = 'position:absolute;white-space:pre';
      node.style.fontFamily = family;
      node.style.fontSize = cs.fontSize;
      node.style.fontWeight = cs.fontWeight;
      node.textContent = cjk;
      el.appendChild(node);
      w = node.getBoundingClientRect().width;
    }
    node.remove();
    return w;
  }
  const box = el.getBoundingClientRect();
  return {text: el.textContent, cjk: cjk, size: parseFloat(cs.fontSize), family: cs.fontFamily,
          own: width(cs.fontFamily), none: width("'No Such Font Anywhere'"), width: box.width, height: box.height};
}"""


def font_problems(page: Any, selectors: list[str]) -> list[str]:
    """What is wrong with the Chinese text of the elements ``selectors`` (CSS; of each, the first
    match with Chinese text) on a loaded Playwright ``page``: an empty list when every check passes."""
    problems: list[str] = []
    page.evaluate("document.fonts.ready.then(() => true)")
    faces = page.evaluate("fam => Array.from(document.fonts).filter(f => f.family.replace(/[\"']/g, '') === fam)"
                          ".map(f => [f.weight, f.status])", FAMILY)
    if not faces or any(status != "loaded" for _, status in faces):
        problems.append(f"font faces of {FAMILY!r} not all loaded: {faces}")
    if not page.evaluate("fam => document.fonts.check(`16px '${fam}'`, '复购')", FAMILY):
        problems.append(f"document.fonts.check(16px '{FAMILY}', '复购') is false")
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    for i, selector in enumerate(selectors):
        m = page.evaluate(_MEASURE, [selector, str(i)])
        if m is None:
            problems.append(f"{selector}: no element with Chinese text")
            continue
        n = len(m["cjk"])
        if m["width"] <= 0 or m["height"] <= 0:
            problems.append(f"{selector}: drawn with no size ({m['width']} x {m['height']})")
        if abs(m["own"] - m["none"]) < 0.5:
            problems.append(f"{selector}: {m['cjk']!r} is as wide in its font ({m['own']:.1f}px) as in a font that does "
                            "not exist (.notdef boxes)")
        if abs(m["own"] - n * m["size"]) > 0.1 * n * m["size"]:
            problems.append(f"{selector}: {n} Chinese characters are {m['own']:.1f}px wide at {m['size']}px, "
                            f"not one em each ({n * m['size']:.0f}px)")
        root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": f"[data-font-probe='{i}']"})["nodeId"]
        used = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        # the web font's own name table may say more ("Noto Sans SC Thin"); no other font is custom
        shipped = [f for f in used if f["familyName"].startswith(FAMILY) and f["isCustomFont"]]
        if not shipped or shipped[0]["glyphCount"] < n:
            problems.append(f"{selector}: {m['text']!r} was drawn with {used}, not with the embedded {FAMILY!r} "
                            f"for its {n} Chinese characters")
    cdp.detach()
    return problems
