"""The README and docs/ pages: short, every relative link resolves, and the quick start is two commands. No Spark."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
RULES = ROOT / "models" / "docs" / "rules.md"
PAGES = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 150

FENCE = re.compile(r"^(```|~~~)")
LINK = re.compile(r"!?\[(?:[^\]\\]|\\.)*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
INLINE_CODE = re.compile(r"`+[^`]*`+")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*#*\s*$")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, where links and headings count."""
    lines, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            in_fence = not in_fence
        elif not in_fence:
            lines.append(line)
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: link text kept, lowercased, punctuation (backticks, `*`) dropped,
    spaces to hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a markdown file, with GitHub's -1, -2 suffixes for repeated headings."""
    seen: dict[str, int] = {}
    result = set()
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = HEADING.match(line)
        if match:
            anchor = github_anchor(match.group(1))
            result.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
            seen[anchor] = seen.get(anchor, 0) + 1
    return result


def relative_links(path: Path) -> list[str]:
    links = []
    for line in prose_lines(path.read_text(encoding="utf-8")):
        links += LINK.findall(INLINE_CODE.sub("", line))
    return [link for link in links if not re.match(r"^[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)]


def broken_links(path: Path) -> list[str]:
    broken = []
    for link in relative_links(path):
        target, _, anchor = link.partition("#")
        file = (path.parent / target).resolve() if target else path
        if not file.exists():
            broken.append(f"{link}: no file {file}")
        elif anchor and (file.suffix != ".md" or anchor not in anchors(file)):
            broken.append(f"{link}: no heading #{anchor} in {file.name}")
    return broken


def test_readme_is_short() -> None:
    lines = len(README.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_README_LINES, f"README.md has {lines} lines"


@pytest.mark.parametrize("path", [README, *PAGES], ids=lambda path: path.name)
def test_every_relative_link_resolves(path: Path) -> None:
    assert relative_links(path), f"{path.name} links nowhere"
    assert not broken_links(path)


def test_the_five_pages_exist_and_link_back() -> None:
    names = {page.stem for page in PAGES}
    assert {"thrift", "athena", "incremental", "performance", "privacy-operations"} <= names
    for page in PAGES:
        assert any(link.partition("#")[0] == "../README.md" for link in relative_links(page)), page.name


def test_quick_start_is_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"^```[a-z]*\n(.*?)^```", section, re.MULTILINE | re.DOTALL)
    assert block, "no code block in the quick start"
    commands = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines() if line.strip()]
    assert commands == ["make build", "make test"]


def test_readme_links_every_rule_doc_block() -> None:
    """Each rule's doc block has a heading of its own in rules.md, and the README links to it."""
    lines = prose_lines(RULES.read_text(encoding="utf-8"))
    rule_anchors = []
    for index, line in enumerate(lines):
        if re.match(r"\{%\s*docs\s+rule_r\d\s*%\}", line):
            headings = [HEADING.match(previous) for previous in lines[:index] if HEADING.match(previous)]
            assert headings, f"no heading above {line}"
            rule_anchors.append(github_anchor(headings[-1].group(1)))
    assert len(rule_anchors) == len(set(rule_anchors)) == 6
    linked = {link.partition("#")[2] for link in relative_links(README) if link.startswith("models/docs/rules.md#")}
    assert set(rule_anchors) <= linked


def test_github_anchor() -> None:
    assert github_anchor("R4 trusted step-trainer readings") == "r4-trusted-step-trainer-readings"
    assert github_anchor("What is proven offline: `make athena-check`") == "what-is-proven-offline-make-athena-check"
    assert github_anchor("The privacy rules R0–R5") == "the-privacy-rules-r0r5"
    assert github_anchor("`STEDI_LANDING_PATH` and snake_case") == "stedi_landing_path-and-snake_case"
