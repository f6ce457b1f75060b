"""The browser checks themselves can fail: axe-core and the CSP watch catch what they claim to."""

from __future__ import annotations

import pytest

from tests.browser.browsing import axe_check

INACCESSIBLE = """<!DOCTYPE html><html lang="en"><head><title>Bad page</title></head><body><main>
<h1>Bad page</h1>
<form><input type="text" name="email"><button type="submit"></button></form>
</main></body></html>"""

CSP_BREAKING = """<!DOCTYPE html><html lang="en"><head><title>Inline script</title>
<meta http-equiv="Content-Security-Policy" content="script-src 'self'"></head>
<body><main><h1>Inline script</h1><script>document.title = "ran";</script></main></body></html>"""


def test_accessibility_check_fails_on_serious_wcag_violations(new_page):
    page = new_page()
    page.set_content(INACCESSIBLE)

    with pytest.raises(AssertionError) as failure:
        axe_check(page)

    report = str(failure.value)
    assert "button-name" in report  # a button with no accessible name is critical
    assert "label" in report  # an input with no label is critical


def test_accessibility_check_fails_on_a_content_security_policy_violation(new_page):
    page = new_page()
    page.set_content(CSP_BREAKING)

    with pytest.raises(AssertionError, match="Content-Security-Policy violations"):
        axe_check(page)
    assert page.title() == "Inline script"  # the inline script was blocked
