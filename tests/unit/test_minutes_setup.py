"""`flask qa setup` warns about what minutes with legal value still need, outside the demo."""

from __future__ import annotations

from qa_app.cli import minutes_setup_warnings


def test_no_warning_for_the_demo() -> None:
    assert minutes_setup_warnings({}, demo=True) == []


def test_unset_public_url_and_certificate_are_reported() -> None:
    warnings = minutes_setup_warnings({}, demo=False)
    assert any("PUBLIC_BASE_URL" in w and "127.0.0.1" in w for w in warnings)
    assert any("SIGNING_PKCS12" in w for w in warnings)


def test_a_real_certificate_needs_a_tsa() -> None:
    config = {"PUBLIC_BASE_URL": "https://qa.example.vn", "SIGNING_PKCS12": "/etc/qa/unit.p12"}
    assert [w for w in minutes_setup_warnings(config, demo=False) if "SIGNING_TSA_URL" in w]
    config["SIGNING_TSA_URL"] = "https://tsa.example.vn"
    assert minutes_setup_warnings(config, demo=False) == []
