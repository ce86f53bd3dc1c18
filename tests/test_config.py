"""Settings from the environment: names kept from the Go service, failures name the variable."""

import pytest

from app.config import ConfigError, load_settings


def test_single_dsn_gets_agnos_db_id():
    s = load_settings({"AGNO_PG_DSN": "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/a3_main"})
    assert list(s.databases) == ["1524510f-b6b0-5078-a5ba-736819be03c0"]  # the id AgentOS derives (contract §1.8)


def test_database_url_fallback_and_explicit_id():
    s = load_settings({"DATABASE_URL": "postgresql://h/db", "AGNO_DEFAULT_DB_ID": "main"})
    assert list(s.databases) == ["main"] and s.databases["main"].url == "postgresql+psycopg://h/db"


@pytest.mark.parametrize("given, opened", [
    ("postgresql+asyncpg://u:p@h:5432/adk", "postgresql+psycopg://u:p@h:5432/adk"),
    ("postgresql+psycopg_async://u@h/adk", "postgresql+psycopg://u@h/adk"),
    ("sqlite+aiosqlite:///data/sessions.db", "sqlite:///data/sessions.db"),
])
def test_adks_async_driver_urls_name_the_same_database(given, opened):
    """The URL given to `adk api_server --session_service_uri` configures this service as it is."""
    s = load_settings({"AGNO_SESSION_DSN_MAP": f'{{"adk": "{given}"}}'})
    assert s.databases["adk"].url == opened


def test_dsn_map_order_and_default():
    s = load_settings({"AGNO_SESSION_DSN_MAP": '{"b": "postgresql://h/b", "a": "postgresql://h/a"}'})
    assert list(s.databases) == ["b", "a"] and s.default_db_id == "b" and not s.default_db_explicit


@pytest.mark.parametrize("env, variable", [
    ({"AGNO_SESSION_DSN_MAP": "{not json"}, "AGNO_SESSION_DSN_MAP"),
    ({"AGNO_SESSION_DSN_MAP": "[]"}, "AGNO_SESSION_DSN_MAP"),
    ({"AGNO_SESSION_DSN_MAP": '{"a": "mysql://x"}'}, "AGNO_SESSION_DSN_MAP"),
    ({"AGNO_PG_DSN": "postgresql://h/db", "AGNO_SERVICE_PORT": "http"}, "AGNO_SERVICE_PORT"),
    ({"AGNO_SESSION_DSN_MAP": '{"a": "postgresql://h/a"}', "AGNO_DEFAULT_DB_ID": "zz"}, "AGNO_DEFAULT_DB_ID"),
    ({"AGNO_PG_DSN": "postgresql://h/db", "AGNO_DB_SCHEMA": "ai; drop"}, "AGNO_DB_SCHEMA"),
])
def test_bad_configuration_names_the_variable(env, variable):
    with pytest.raises(ConfigError, match=variable):
        load_settings(env)
