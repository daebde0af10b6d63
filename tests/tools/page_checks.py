"""Checks the browser tests run inside a page: axe-core's accessibility rules, and whether the
page, or any element outside a box of its own that scrolls, is wider than the window."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parents[1] / "js" / "node_modules" / "axe-core" / "axe.min.js"


def axe_violations(page: Page) -> list[str]:
    """Every WCAG 2.1 A/AA (and best-practice) violation axe-core finds on the page."""
    assert AXE.is_file(), "run `npm ci --prefix tests/js` (./dev test does)"
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"])
        for v in violations
    ]


def no_horizontal_scroll(page: Page) -> bool:
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def page_width(page: Page) -> dict[str, int]:
    """The document's scroll width and the window's inner width, in CSS pixels."""
    return page.evaluate(
        """() => ({scroll: document.documentElement.scrollWidth, window: window.innerWidth})"""
    )


def too_wide(page: Page) -> list[str]:
    """Visible elements reaching past the window's right edge (or left edge, right to left),
    except inside a box that scrolls or clips them; only the outermost of each nest."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            const boxed = (element) => {
                for (let p = element.parentElement; p && p !== document.body; p = p.parentElement) {
                    if (getComputedStyle(p).overflowX !== "visible") return true;
                }
                return false;
            };
            const name = (e) => e.tagName.toLowerCase()
                + (e.id ? "#" + e.id : "")
                + (e.classList.length ? "." + [...e.classList].join(".") : "");
            const wide = new Set([...document.body.querySelectorAll("*")].filter((e) => {
                const box = e.getBoundingClientRect();
                if (box.width === 0 || box.height === 0) return false;
                return (box.right > width + 0.5 || (box.left < -0.5 && box.right > 0))
                    && !boxed(e);
            }));
            return [...wide].filter((e) => !wide.has(e.parentElement))
                .map((e) => `${name(e)} (${Math.round(e.getBoundingClientRect().left)}…`
                    + `${Math.round(e.getBoundingClientRect().right)} px)`);
        }"""
    )
