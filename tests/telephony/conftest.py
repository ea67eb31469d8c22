from __future__ import annotations

import pytest

TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-test-auth-token-0123456789"
TWILIO_NUMBER = "+15005550006"
PLIVO_ID = "MAZDQ1ZJNJMTMYODM4NZ"
PLIVO_TOKEN = "plivo-test-auth-token-0123456789"
PLIVO_NUMBER = "+15005550007"


@pytest.fixture
def twilio_account(db):
    from telephony.models import ProviderAccount

    return ProviderAccount.objects.create(
        provider="twilio",
        label="Main line",
        hotline_number=TWILIO_NUMBER,
        account_id=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
    )


@pytest.fixture
def plivo_account(db):
    from telephony.models import ProviderAccount

    return ProviderAccount.objects.create(
        provider="plivo",
        label="Backup line",
        hotline_number=PLIVO_NUMBER,
        account_id=PLIVO_ID,
        auth_token=PLIVO_TOKEN,
    )
