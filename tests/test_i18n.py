"""Every user-facing string has a Chinese translation; pages follow Accept-Language and the language cookie."""

import pytest

from core import i18n_tool


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogues():
    """The app reads .mo files; compile them when a .po is newer (make test does this too)."""
    for package in i18n_tool.PACKAGES:
        for po in i18n_tool.catalog_dir(package).glob("*/LC_MESSAGES/messages.po"):
            mo = po.with_suffix(".mo")
            if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
                i18n_tool.compile_all()
                return


def test_every_string_has_a_chinese_translation():
    gaps = i18n_tool.missing("zh_CN")
    listing = "\n".join(f"  {where}: {msgid!r}" for where, msgid in gaps)
    assert not gaps, f"{len(gaps)} strings have no zh_CN translation (flask i18n extract, fill, compile):\n{listing}"


def test_placeholders_survive_translation():
    import re

    placeholder = re.compile(r"%\(\w+\)s")
    wrong = [
        (msgid, text)
        for msgid, text in i18n_tool.translated("zh_CN").items()
        if sorted(placeholder.findall(msgid)) != sorted(placeholder.findall(text))
    ]
    assert not wrong, wrong


def test_accept_language_chinese_shows_chinese(client):
    page = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in html
    assert "登录" in html and "手机号、一卡通卡号或电子邮箱" in html
    assert ">Sign in<" not in html


def test_accept_language_english_shows_english(client):
    html = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Phone, card number or e-mail" in html


def test_language_cookie_beats_accept_language(client):
    client.set_cookie("lang", "en")
    html = client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert '<html lang="en"' in html
    assert "Sign in" in html and "登录" not in html


def test_chinese_cookie_beats_english_accept_language(client):
    client.set_cookie("lang", "zh_CN")
    html = client.get("/register", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "注册" in html and "出生年份" in html


def test_each_request_gets_its_own_language(client):
    """The test app context spans requests; the language must still follow each request."""
    assert "Sign in" in client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in client.get("/login", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    client.set_cookie("lang", "en")
    assert "Sign in" in client.get("/login").get_data(as_text=True)


def test_default_language_is_chinese(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN"' in html
    assert "跳到正文" in html


def test_a_string_has_one_translation_across_all_catalogues():
    """Catalogues are merged at run time: two packages translating one msgid differently would make the
    page's wording depend on load order."""
    from babel.messages.pofile import read_po

    seen: dict[str, dict[str, str]] = {}
    for package in i18n_tool.PACKAGES:
        po = i18n_tool.catalog_dir(package) / "zh_CN" / "LC_MESSAGES" / "messages.po"
        if po.exists():
            with po.open("rb") as fh:
                for message in read_po(fh):
                    if isinstance(message.id, str) and message.id and message.string:
                        seen.setdefault(message.id, {})[package] = message.string
    clashes = {msgid: found for msgid, found in seen.items() if len(set(found.values())) > 1}
    assert not clashes, "one msgid, several translations (pick one): " + repr(clashes)
