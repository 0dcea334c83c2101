"""A resident on a phone: registers, gets a one-card number, signs out and in, switches language and large text."""

import re

import pytest

from tests.browser.conftest import click_and_wait, sign_in

pytestmark = pytest.mark.browser


def font_size(page, selector: str = "body") -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def test_resident_registers_signs_in_and_changes_preferences(phone, world):
    page = phone
    page.goto("/")
    assert page.get_attribute("html", "lang") == "zh-CN"
    click_and_wait(page.locator("nav.tabbar").get_by_role("link", name="我的"))  # sign-in and register live there
    page.get_by_role("link", name="注册").first.click()
    page.wait_for_url("**/register")

    page.fill("#name", "赵桂芳")
    page.fill("#phone", "13912345678")
    page.fill("#birth_year", "1956")
    page.fill("#password", "chrysanthemum9")
    page.check("#consent")  # 我已阅读并同意《用户协议》和《隐私政策》
    page.get_by_role("button", name="创建账户").click()

    page.wait_for_url("**/account")
    assert page.locator("h1").inner_text() == "我的账户"
    card = page.locator(".facts dd.mono").inner_text().strip()
    assert re.fullmatch(r"\d{8,}", card), card
    assert card in page.locator(".flashes").inner_text()
    assert "赵桂芳" in page.locator("main").inner_text()

    click_and_wait(page.locator("nav.tabbar").get_by_role("link", name="我的"))
    click_and_wait(page.get_by_role("button", name="退出登录"))
    assert "您已退出登录" in page.locator(".flashes").inner_text()
    page.goto("/account")
    assert "/login" in page.url  # signed out for real

    sign_in(page, "13912345678", "chrysanthemum9")
    page.goto("/account")
    assert page.locator(".facts dd.mono").inner_text().strip() == card

    # English and back: the text and <html lang> follow.
    click_and_wait(page.get_by_role("button", name="English"))
    assert page.get_attribute("html", "lang") == "en"
    assert page.locator("h1").inner_text() == "My account"
    click_and_wait(page.locator("nav.tabbar").get_by_role("link", name="Me", exact=True))
    assert page.get_by_role("button", name="Sign out").is_visible()
    page.goto("/account")
    click_and_wait(page.get_by_role("button", name="中文"))
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "我的账户"

    # Large text on and off: the html element gets the class and the text grows.
    normal = font_size(page, "main p")
    large_button = page.get_by_role("button", name="大字模式")
    assert large_button.get_attribute("aria-pressed") == "false"
    click_and_wait(large_button)
    assert "large-text" in (page.get_attribute("html", "class") or "").split()
    assert page.get_by_role("button", name="大字模式").get_attribute("aria-pressed") == "true"
    assert font_size(page, "main p") > normal * 1.2
    assert page.url.endswith("/account")  # stayed on the same page
    click_and_wait(page.get_by_role("button", name="大字模式"))
    assert "large-text" not in (page.get_attribute("html", "class") or "").split()
    assert font_size(page, "main p") == pytest.approx(normal)


def test_wrong_password_is_refused_in_chinese(phone, world):
    page = phone
    page.goto("/login")
    page.fill("#login", world.resident_login)
    page.fill("#password", "not-the-password")
    click_and_wait(page.locator("main form button[type=submit]"))
    assert "/login" in page.url
    assert "账号或密码不正确" in page.locator(".flashes").inner_text()
