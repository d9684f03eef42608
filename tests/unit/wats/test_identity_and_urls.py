import base64

import pytest

from app.wats import basic_token, normalize_base_url, normalize_mac, redact_url


def test_basic_token_is_base64_of_user_colon_password():
    token = basic_token("test", "p:ss wörd")
    assert base64.b64decode(token).decode() == "test:p:ss wörd"
    assert basic_token("a", "b") == "YTpi"


@pytest.mark.parametrize(
    "given",
    ["4c:5f:70:d6:2f:f4", "4C-5F-70-D6-2F-F4", "4c5f.70d6.2ff4", "4C5F70D62FF4", " 4c5f70d62ff4 "],
)
def test_mac_is_normalized_to_12_uppercase_hex_digits(given):
    assert normalize_mac(given) == "4C5F70D62FF4"


@pytest.mark.parametrize("bad", ["", "4C5F70D62FF", "4C5F70D62FF4A", "4C5F70D62FG4", "station-1"])
def test_bad_mac_is_refused_in_plain_words(bad):
    with pytest.raises(ValueError, match="is not a MAC address: expected 12 hex digits"):
        normalize_mac(bad)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://acme.wats.com", "https://acme.wats.com/"),
        ("https://acme.wats.com/", "https://acme.wats.com/"),
        ("https://acme.wats.com/api", "https://acme.wats.com/"),
        ("https://acme.wats.com/api/", "https://acme.wats.com/"),
        ("https://acme.wats.com/API", "https://acme.wats.com/"),
        ("https://host:8443/wats/api", "https://host:8443/wats/"),
        ("https://host/wats", "https://host/wats/"),
        ("https://host/apis", "https://host/apis/"),
        ("HTTP://host?x=1#frag", "http://host/"),
        ("acme.wats.com", "https://acme.wats.com/"),
        ("  http://127.0.0.1:8080  ", "http://127.0.0.1:8080/"),
    ],
)
def test_base_url_is_normalized(given, expected):
    assert normalize_base_url(given) == expected


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "empty"),
        ("ftp://host/", "must start with https:// or http://"),
        ("https://", "has no host name"),
        ("https://user:pw@host/", "must not contain a user name or password"),
        ("https://host:port/", "invalid port"),
    ],
)
def test_bad_base_url_is_refused_in_plain_words(given, message):
    with pytest.raises(ValueError, match=message):
        normalize_base_url(given)


def test_redact_url_hides_only_the_password():
    assert redact_url("http://bob:s3cret@proxy:3128") == "http://bob:***@proxy:3128"
    assert redact_url("http://[::1]:3128") == "http://[::1]:3128"
    assert redact_url("http://bob:pw@[::1]:3128/") == "http://bob:***@[::1]:3128/"
