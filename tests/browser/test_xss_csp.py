"""The Content-Security-Policy the app sends really stops inline script in Chromium (the second wall behind escaping)."""
from __future__ import annotations

import pytest

from browser_support import Probe

pytestmark = pytest.mark.browser

INJECTED = (
    "<script>window.__xss='inline-script'</script>"
    "<img src=x onerror=\"window.__xss='inline-handler'\">"
    "<a id=js href=\"javascript:window.__xss='javascript-url'\">lien</a>"
)


def test_app_csp_blocks_inline_script_handlers_and_javascript_urls(live_server, page):
    """Serve the home page with hostile markup spliced in but the app's own headers: nothing may run."""
    seen_headers = {}

    def splice(route):
        response = route.fetch()
        seen_headers.update(response.headers)
        body = response.text().replace("</main>", INJECTED + "</main>", 1)
        route.fulfill(response=response, body=body)

    page.route(f"{live_server.url}/", splice)
    page.goto(live_server.url + "/")
    assert "script-src 'self'" in seen_headers["content-security-policy"]
    page.click("#js")
    page.wait_for_timeout(200)
    hits, violations = page.probe.page_hits(page)
    assert hits == [] and page.probe.dialogs == []
    # All three were attempted and refused by the policy, not merely absent.
    assert len(violations) >= 3, violations
    assert all("script-src" in violation for violation in violations), violations


def test_same_markup_runs_without_the_policy(live_server, browser_context):
    """Control: with the CSP bypassed the spliced script does run, so the test above measures the policy."""
    context, _probe = browser_context(bypass_csp=True)
    page = context.new_page()
    page.route(
        f"{live_server.url}/",
        lambda route: route.fulfill(
            response=(response := route.fetch()), body=response.text().replace("</main>", INJECTED + "</main>", 1)
        ),
    )
    page.goto(live_server.url + "/")
    page.wait_for_timeout(200)
    hits, _ = Probe.page_hits(page)
    assert "__xss=inline-script" in " ".join(hits)
