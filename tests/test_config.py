"""Settings come from the environment; production refuses unsafe defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from rj_scheduler.config import SETTINGS, ConfigError, load_config

README = Path(__file__).parent.parent / "README.md"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="SECRET_KEY is required"):
        load_config(tmp_path, {"RJ_ENV": "production", "RJ_PUBLIC_URL": "https://rj.example.org"})


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(ConfigError, match="at least 32"):
        load_config(
            tmp_path,
            {"RJ_ENV": "production", "SECRET_KEY": "short", "RJ_PUBLIC_URL": "https://x.example.org"},
        )


def test_production_requires_an_https_public_url(tmp_path):
    with pytest.raises(ConfigError, match="https"):
        load_config(
            tmp_path,
            {"RJ_ENV": "production", "SECRET_KEY": "k" * 40, "RJ_PUBLIC_URL": "http://x.example.org"},
        )


def test_development_generates_a_secret_key_once_into_the_instance_folder(tmp_path):
    first = load_config(tmp_path, {})["SECRET_KEY"]
    second = load_config(tmp_path, {})["SECRET_KEY"]
    assert first == second
    assert len(first) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_production_cookies_are_secure_and_drama_numbers_refused(tmp_path):
    config = load_config(
        tmp_path, {"RJ_ENV": "production", "SECRET_KEY": "k" * 40, "RJ_PUBLIC_URL": "https://x.example.org"}
    )
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["SESSION_COOKIE_HTTPONLY"] is True
    assert config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert config["RJ_ALLOW_DRAMA_NUMBERS"] is False


def test_unknown_environment_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="RJ_ENV"):
        load_config(tmp_path, {"RJ_ENV": "staging"})


def test_plain_postgresql_urls_use_psycopg3(tmp_path):
    config = load_config(tmp_path, {"DATABASE_URL": "postgresql://u@127.0.0.1/rj"})
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@127.0.0.1/rj"


def test_readme_documents_every_setting():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "settings_table", README.parent / "scripts" / "settings_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text = README.read_text()
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in text]
    assert missing == [], f"README's settings table lacks {missing}"
    assert module.rewrite(text) == text, "README's settings table is stale: run scripts/settings_table.py"
