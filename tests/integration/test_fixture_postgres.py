"""The postgres fixture gives a real server with password authentication on loopback."""
import psycopg2
import pytest


def test_server_answers_sql_over_tcp_with_password(postgres):
    assert postgres.host == "127.0.0.1"
    assert postgres.execute("SELECT current_setting('server_version_num')::int / 10000")[0][0] == 15
    assert postgres.execute("SHOW listen_addresses")[0][0] == "127.0.0.1"


def test_wrong_password_is_refused(postgres):
    with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
        postgres.connect(password="not-the-password")


def test_create_database_with_owner_and_dsn(postgres):
    postgres.create_role("fixture_owner", "owner-pass")
    try:
        postgres.create_database("fixture_db", owner="fixture_owner")
        conn = psycopg2.connect(postgres.dsn("fixture_db"))
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = %s",
                            ("fixture_db",))
                assert cur.fetchone()[0] == "fixture_owner"
        finally:
            conn.close()
    finally:
        postgres.drop_database("fixture_db")
        postgres.execute('DROP ROLE "fixture_owner"')
