"""Webhook signatures through the verified_webhook decorator, on a view defined here."""

from __future__ import annotations

import logging

import pytest
from django.http import HttpResponse

from telephony.models import ProviderAccount
from telephony.webhooks.verification import verified_webhook, webhook_provider

from .conftest import PLIVO_TOKEN
from .signing import plivo_signature, twilio_signature

pytestmark = pytest.mark.django_db

# Twilio's published example (https://www.twilio.com/docs/usage/security).
TWILIO_DOC_TOKEN = "12345"
TWILIO_DOC_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
TWILIO_DOC_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}
TWILIO_DOC_SIGNATURE = "0/KCTR6DLpKmkAf8muzZqo1nDgQ="


@verified_webhook
def signed_view(request, provider):
    return HttpResponse(f"{provider.name}:{provider.account.pk}")


@pytest.fixture
def doc_account(db):
    return ProviderAccount.objects.create(
        provider="twilio",
        label="Docs",
        hotline_number="+18005551212",
        account_id="AC" + "1" * 32,
        auth_token=TWILIO_DOC_TOKEN,
    )


def twilio_post(rf, *, path="/myapp.php?foo=1&bar=2", params=None, signature=TWILIO_DOC_SIGNATURE, **extra):
    headers = {"X-Twilio-Signature": signature} if signature is not None else {}
    return rf.post(path, params if params is not None else TWILIO_DOC_PARAMS, headers=headers, **extra)


# --- Twilio ------------------------------------------------------------------------------------
def test_the_published_twilio_vector_is_what_the_sdk_computes():
    assert twilio_signature(TWILIO_DOC_TOKEN, TWILIO_DOC_URL, TWILIO_DOC_PARAMS) == TWILIO_DOC_SIGNATURE


def test_twilio_published_example_is_accepted(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    response = signed_view(twilio_post(rf))
    assert response.status_code == 200
    assert response.content.decode() == f"twilio:{doc_account.pk}"


def test_twilio_wrong_token_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    doc_account.auth_token = "54321"
    doc_account.save()
    assert signed_view(twilio_post(rf)).status_code == 403


def test_twilio_altered_parameter_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    assert signed_view(twilio_post(rf, params={**TWILIO_DOC_PARAMS, "Digits": "1235"})).status_code == 403


def test_twilio_added_parameter_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    assert signed_view(twilio_post(rf, params={**TWILIO_DOC_PARAMS, "Extra": "x"})).status_code == 403


def test_twilio_altered_url_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    assert signed_view(twilio_post(rf, path="/myapp.php?foo=2&bar=2")).status_code == 403
    assert signed_view(twilio_post(rf, path="/other.php?foo=1&bar=2")).status_code == 403


def test_twilio_signature_for_https_does_not_pass_on_http(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "http://mycompany.com"
    assert signed_view(twilio_post(rf)).status_code == 403


def test_twilio_signature_for_another_host_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://attacker.example"
    assert signed_view(twilio_post(rf)).status_code == 403


def test_missing_or_empty_signature_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    assert signed_view(twilio_post(rf, signature=None)).status_code == 403
    assert signed_view(twilio_post(rf, signature="")).status_code == 403


def test_disabled_account_or_account_without_token_is_refused(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    doc_account.enabled = False
    doc_account.save()
    assert signed_view(twilio_post(rf)).status_code == 403
    doc_account.enabled = True
    doc_account.auth_token = ""
    doc_account.save()
    assert signed_view(twilio_post(rf)).status_code == 403


def test_get_is_not_allowed(rf, settings, doc_account):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    request = rf.get("/myapp.php?foo=1&bar=2", headers={"X-Twilio-Signature": TWILIO_DOC_SIGNATURE})
    assert signed_view(request).status_code == 405


def test_behind_a_tls_proxy_the_public_url_is_checked(rf, settings, twilio_account):
    """The proxy hands the app http://127.0.0.1:8000/...; the carrier signed the public https URL."""
    settings.PUBLIC_BASE_URL = "https://hotline.example.org"
    params = {"CallSid": "CA" + "9" * 32, "From": "+15551230000", "To": str(twilio_account.hotline_number)}
    signature = twilio_signature(
        twilio_account.auth_token, "https://hotline.example.org/telephony/incoming?leg=7", params
    )
    request = rf.post(
        "/telephony/incoming?leg=7",
        params,
        headers={"X-Twilio-Signature": signature},
        SERVER_NAME="127.0.0.1",
        SERVER_PORT="8000",
    )
    assert request.build_absolute_uri().startswith("http://127.0.0.1:8000/")
    response = signed_view(request)
    assert response.status_code == 200
    # Signed for what the app saw instead: refused.
    bad = twilio_signature(twilio_account.auth_token, request.build_absolute_uri(), params)
    request = rf.post(
        "/telephony/incoming?leg=7",
        params,
        headers={"X-Twilio-Signature": bad},
        SERVER_NAME="127.0.0.1",
        SERVER_PORT="8000",
    )
    assert signed_view(request).status_code == 403


def test_the_account_that_signed_is_the_one_bound(rf, settings, twilio_account):
    """Two Twilio accounts: the one whose token verifies wins, whatever the number says."""
    other = ProviderAccount.objects.create(
        provider="twilio",
        label="Second",
        hotline_number="+15005550099",
        account_id="AC" + "2" * 32,
        auth_token="second-account-token-0123456789ab",
    )
    params = {"CallSid": "CA1", "From": "+15551230000", "To": str(twilio_account.hotline_number)}
    url = settings.PUBLIC_BASE_URL + "/hook"
    request = rf.post(
        "/hook", params, headers={"X-Twilio-Signature": twilio_signature(other.auth_token, url, params)}
    )
    provider = webhook_provider(request)
    assert provider is not None and provider.account == other


def test_rejections_are_logged_without_caller_data(rf, settings, doc_account, caplog):
    settings.PUBLIC_BASE_URL = "https://mycompany.com"
    with caplog.at_level(logging.WARNING, logger="telephony.webhooks.verification"):
        assert signed_view(twilio_post(rf, signature="bogus")).status_code == 403
    assert "webhook rejected" in caplog.text
    assert "2349013030" not in caplog.text and "8005551212" not in caplog.text
    assert "bogus" not in caplog.text


# --- Plivo -------------------------------------------------------------------------------------
NONCE = "12345678901234567890"


def plivo_params(account):
    return {
        "CallUUID": "d0a7c2f6-0000-4000-8000-000000000001",
        "From": "+15551230000",
        "To": str(account.hotline_number),
    }


def plivo_post(rf, *, path, params, signature, nonce=NONCE, **extra):
    headers = {"X-Plivo-Signature-V3": signature}
    if nonce is not None:
        headers["X-Plivo-Signature-V3-Nonce"] = nonce
    return rf.post(path, params, headers=headers, **extra)


def test_plivo_signature_vector_follows_the_documented_base_string():
    """The SDK signs URL (query sorted) + '.' + sorted key/values + '.' + nonce with HMAC-SHA256."""
    import base64
    import hashlib
    import hmac

    url = "https://h.example/plivo/answer?x=1"
    params = {"To": "+1501", "CallUUID": "abc", "From": "+1500"}
    base = "https://h.example/plivo/answer?x=1.CallUUIDabcFrom+1500To+1501." + NONCE
    expected = base64.b64encode(hmac.new(b"token", base.encode(), hashlib.sha256).digest()).decode()
    assert plivo_signature("token", url, params, NONCE) == expected


def test_plivo_signed_request_is_accepted(rf, settings, plivo_account):
    params = plivo_params(plivo_account)
    url = settings.PUBLIC_BASE_URL + "/telephony/incoming?b=2&a=1"
    signature = plivo_signature(PLIVO_TOKEN, url, params, NONCE)
    response = signed_view(
        plivo_post(rf, path="/telephony/incoming?b=2&a=1", params=params, signature=signature)
    )
    assert response.status_code == 200
    assert response.content.decode() == f"plivo:{plivo_account.pk}"


def test_plivo_any_of_several_signatures_passes(rf, settings, plivo_account):
    params = plivo_params(plivo_account)
    url = settings.PUBLIC_BASE_URL + "/telephony/status"
    good = plivo_signature(PLIVO_TOKEN, url, params, NONCE)
    stale = plivo_signature("an-older-rotated-token-000000000", url, params, NONCE)
    for header in (f"{stale},{good}", f"{stale}, {good}", f"{good},{stale}"):
        request = plivo_post(rf, path="/telephony/status", params=params, signature=header)
        assert signed_view(request).status_code == 200, header
    request = plivo_post(rf, path="/telephony/status", params=params, signature=f"{stale},{stale}")
    assert signed_view(request).status_code == 403


@pytest.mark.parametrize(
    "case",
    ["wrong_token", "altered_param", "altered_url", "missing_nonce", "other_nonce", "http", "no_signature"],
)
def test_plivo_forgeries_are_refused(rf, settings, plivo_account, case):
    params = plivo_params(plivo_account)
    path = "/telephony/incoming?call=5"
    url = settings.PUBLIC_BASE_URL + path
    token, nonce, sent_params, sent_path = PLIVO_TOKEN, NONCE, dict(params), path
    if case == "wrong_token":
        token = "not-the-account-token-0000000000"
    elif case == "altered_param":
        sent_params["Digits"] = "1"
    elif case == "altered_url":
        sent_path = "/telephony/incoming?call=6"
    elif case == "http":
        settings.PUBLIC_BASE_URL = settings.PUBLIC_BASE_URL.replace("https://", "http://")
    signature = plivo_signature(token, url, params, nonce)
    if case == "no_signature":
        signature = ""
    request = plivo_post(
        rf,
        path=sent_path,
        params=sent_params,
        signature=signature,
        nonce={"missing_nonce": None, "other_nonce": "09876543210987654321"}.get(case, nonce),
    )
    assert signed_view(request).status_code == 403


def test_plivo_behind_a_tls_proxy(rf, settings, plivo_account):
    settings.PUBLIC_BASE_URL = "https://hotline.example.org"
    params = plivo_params(plivo_account)
    signature = plivo_signature(PLIVO_TOKEN, "https://hotline.example.org/telephony/incoming", params, NONCE)
    request = plivo_post(
        rf,
        path="/telephony/incoming",
        params=params,
        signature=signature,
        SERVER_NAME="127.0.0.1",
        SERVER_PORT="8000",
    )
    assert signed_view(request).status_code == 200


def test_a_twilio_signature_does_not_open_a_plivo_account(rf, settings, plivo_account):
    params = plivo_params(plivo_account)
    url = settings.PUBLIC_BASE_URL + "/telephony/incoming"
    request = rf.post(
        "/telephony/incoming",
        params,
        headers={"X-Twilio-Signature": twilio_signature(PLIVO_TOKEN, url, params)},
    )
    assert signed_view(request).status_code == 403
