"""The docs, offline: every relative link of README.md and docs/ leads somewhere, the README
stays one page, and mkdocs builds the site with --strict (no network: the built-in theme).
"""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.M | re.S)


def slug(heading: str) -> str:
    """Python-Markdown's toc slug (what mkdocs anchors headings with)."""
    text = unicodedata.normalize("NFKD", heading).encode("ascii", "ignore").decode()
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return {slug(m.group(1)) for m in re.finditer(r"^#+\s+(.*)$", text, re.M)}


def links(page: Path) -> list[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    return [m.group(1) for m in LINK.finditer(text)
            if not re.match(r"^[a-z]+:", m.group(1))]  # http:, https:, mailto:


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_points_to_a_file_and_anchor(page):
    broken = []
    for target in links(page):
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(target)
    assert broken == [], f"{page.relative_to(ROOT)}: broken links {broken}"


def test_readme_is_one_page_that_points_into_docs():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 150
    assert "make serve" in text and "make test" in text
    linked = {Path(t.partition("#")[0]).name for t in links(ROOT / "README.md")}
    guides = {p.name for p in (ROOT / "docs").glob("*.md")}
    assert guides <= linked, f"docs not linked from the README: {guides - linked}"


def test_mkdocs_builds_the_site_strictly_offline(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "site" / "settings" / "index.html").is_file()


def _tree_in(page: Path) -> set[str]:
    """The paths of the ```text tree in a page: two spaces of indent per folder level."""
    block = re.search(r"^```text\n(.*?)^```", page.read_text(encoding="utf-8"), re.M | re.S)
    assert block, f"{page.name} has no ```text tree"
    paths, stack = set(), []
    for line in block.group(1).splitlines():
        indent = (len(line) - len(line.lstrip(" "))) // 2
        name = line.split()[0]
        stack[indent:] = [name]
        paths.add("".join(stack).rstrip("/"))
    return paths


def test_the_code_tree_in_the_docs_is_the_code():
    """docs/code.md lists every package and module of graph/ and endpoint/, and nothing else."""
    listed = _tree_in(ROOT / "docs" / "code.md")
    actual = set()
    for top in ("graph", "endpoint"):
        actual.add(top)
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT)
            actual.add(str(rel.parent) if path.name == "__init__.py" else str(rel))
    assert sorted(actual - listed) == [], "in the code, not in docs/code.md"
    assert sorted(listed - actual) == [], "in docs/code.md, not in the code"


def test_graph_has_few_top_level_modules_and_every_package_says_what_it_is_for():
    import ast

    top = [p for p in (ROOT / "graph").glob("*.py") if p.name != "__init__.py"]
    assert len(top) <= 8, sorted(p.name for p in top)
    for init in [*(ROOT / "graph").rglob("__init__.py"), *(ROOT / "endpoint").rglob("__init__.py")]:
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.splitlines()[0]) > 20, f"{init.relative_to(ROOT)} says nothing"
