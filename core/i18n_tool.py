"""Translation catalogues: each package owns `<pkg>/translations`, extracted from its code and templates.

`core` owns the site-wide templates (base, macros, errors). `flask i18n extract|compile|check` drive it;
a test runs `check` so an untranslated string fails the suite.
"""

import subprocess
import sys
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from core.config import BASE_DIR
from core.i18n import PACKAGES

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None, "_n": (1, 2)}
LOCALES = ["zh_CN"]


def sources(package: str) -> list[Path]:
    """Where a package's strings live: its code, and its templates folder (core also has the root templates)."""
    paths = [BASE_DIR / package, BASE_DIR / "templates" / package]
    if package == "core":
        paths += [BASE_DIR / "templates" / "errors", *sorted((BASE_DIR / "templates").glob("*.html"))]
    return [p for p in paths if p.exists()]


def messages_of(package: str) -> dict[str, str]:
    """msgid → first location, for every translatable string of `package`."""
    found: dict[str, str] = {}
    method_map = [("**.py", "python"), ("**.html", "jinja2")]
    for path in sources(package):
        if path.is_file():
            from babel.messages.extract import extract_from_file

            entries = (
                (path.name, lineno, msg, comments, ctx)
                for lineno, msg, comments, ctx in extract_from_file("jinja2", str(path), keywords=KEYWORDS)
            )
        else:
            entries = extract_from_dir(str(path), method_map=method_map, keywords=KEYWORDS)
        for filename, lineno, message, _comments, _ctx in entries:
            for msgid in message if isinstance(message, tuple) else (message,):
                if msgid:
                    found.setdefault(msgid, f"{path.name}/{filename}:{lineno}")
    return found


def catalog_dir(package: str) -> Path:
    return BASE_DIR / package / "translations"


def extract(package: str, known: dict[str, dict[str, str]] | None = None) -> Path:
    """Write `<pkg>/translations/messages.pot` and create or update the zh_CN catalogue from it.

    A string that moved here from another package keeps its translation: `known` (locale → msgid → msgstr,
    read from every catalogue before any was updated) fills the new entries; strings no longer used are dropped.
    """
    folder = catalog_dir(package)
    folder.mkdir(parents=True, exist_ok=True)
    pot = folder / "messages.pot"
    args = [
        sys.executable,
        "-m",
        "babel.messages.frontend",
        "extract",
        "-F",
        str(BASE_DIR / "babel.cfg"),
        "-k",
        "_l",
        "-k",
        "lazy_gettext",
        "--no-location",
        "--sort-output",
        "-o",
        str(pot),
        *[str(p) for p in sources(package)],
    ]
    subprocess.run(args, check=True, capture_output=True)
    for locale in LOCALES:
        po = folder / locale / "LC_MESSAGES" / "messages.po"
        action = "update" if po.exists() else "init"
        before = _ids(po)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "babel.messages.frontend",
                action,
                "-i",
                str(pot),
                "-d",
                str(folder),
                "-l",
                locale,
                "--no-wrap",
                *(["--no-fuzzy-matching"] if action == "update" else []),
            ],
            check=True,
            capture_output=True,
        )
        _adopt(po, (known or {}).get(locale, {}), before)
    return folder


def _ids(po: Path) -> set:
    if not po.exists():
        return set()
    with po.open("rb") as fh:
        return {message.id for message in read_po(fh)}


def _adopt(po: Path, known: dict[str, str], before: set) -> None:
    """Give the entries new to `po` their translation from `known`; drop entries that moved elsewhere."""
    from babel.messages.pofile import write_po

    with po.open("rb") as fh:
        catalog = read_po(fh)
    filled = 0
    for message in catalog:
        if message.id not in before and isinstance(message.id, str) and not message.string and message.id in known:
            message.string = known[message.id]
            filled += 1
    moved = [msgid for msgid in catalog.obsolete if msgid in known]
    for msgid in moved:
        del catalog.obsolete[msgid]
    if filled or moved:
        with po.open("wb") as out:
            write_po(out, catalog, width=None)


def extract_all(packages: list[str]) -> list[Path]:
    """Extract every package in `packages`, keeping the translations of strings that moved between them."""
    known = {locale: translated(locale) for locale in LOCALES}
    return [extract(package, known) for package in packages if sources(package)]


def compile_all() -> None:
    """Compile every package's .po into .mo (the app reads only .mo)."""
    for package in PACKAGES:
        folder = catalog_dir(package)
        for po in folder.glob("*/LC_MESSAGES/messages.po"):
            with po.open("rb") as fh:
                catalog = read_po(fh)
            from babel.messages.mofile import write_mo

            with po.with_suffix(".mo").open("wb") as out:
                write_mo(out, catalog, use_fuzzy=False)


def translated(locale: str = "zh_CN") -> dict[str, str]:
    """Every translated msgid across all packages' catalogues."""
    known: dict[str, str] = {}
    for package in PACKAGES:
        po = catalog_dir(package) / locale / "LC_MESSAGES" / "messages.po"
        if not po.exists():
            continue
        with po.open("rb") as fh:
            for message in read_po(fh):
                if message.id and message.string and not message.fuzzy:
                    if isinstance(message.id, str):
                        known[message.id] = message.string
                    elif all(message.string):  # ngettext: the singular and the plural msgid are both used
                        for key in message.id:
                            known[key] = message.string[0]
    return known


def missing(locale: str = "zh_CN") -> list[tuple[str, str]]:
    """(location, msgid) for each string used in code or templates with no translation in any catalogue."""
    known = translated(locale)
    result = []
    for package in PACKAGES:
        for msgid, where in messages_of(package).items():
            if msgid not in known:
                result.append((where, msgid))
    return result
