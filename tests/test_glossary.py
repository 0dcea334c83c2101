"""One vocabulary (docs/glossary.md): no translation catalogue uses a synonym the glossary rules out."""

import re
from pathlib import Path

from babel.messages.pofile import read_po

from core import i18n_tool

ROOT = Path(__file__).resolve().parents[1]
GLOSSARY = ROOT / "docs" / "glossary.md"


def forbidden_words() -> dict[str, str]:
    """Each ruled-out synonym → the glossary's term, from the first table's last column."""
    words = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[0] in ("Concept", "") or set(cells[0]) <= {"-"}:
            continue
        for word in re.split(r"[、,]", cells[3]):
            if word.strip():
                words[word.strip()] = cells[1]
    return words


def test_the_glossary_rules_out_the_known_synonyms():
    words = forbidden_words()
    for synonym in ("抽签", "预约码", "已受理", "未受理"):
        assert synonym in words


def test_no_catalogue_uses_a_synonym_the_glossary_rules_out():
    words = forbidden_words()
    found = []
    for package in i18n_tool.PACKAGES:
        for po in i18n_tool.catalog_dir(package).glob("zh_CN/LC_MESSAGES/messages.po"):
            with po.open("rb") as f:
                catalog = read_po(f)
            for message in catalog:
                texts = message.string if isinstance(message.string, tuple | list) else [message.string]
                for text in texts:
                    for word, term in words.items():
                        if text and word in text:
                            found.append(f"{po.relative_to(ROOT)}: {message.id!r} uses {word} (say {term})")
    assert not found, "Catalogues use words docs/glossary.md rules out:\n" + "\n".join(found)
