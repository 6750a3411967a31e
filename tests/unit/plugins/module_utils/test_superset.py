"""The Superset REST session's pure parts: the rison filter, URI credentials and masking, cookies, the marker, and
the login's reading of Superset's answers (a fake transport answering as Superset 6.1 does)."""
import json

import pytest

from ansible_collections.lakehouse.platform.plugins.module_utils.service_proxy import ServiceResponse
from ansible_collections.lakehouse.platform.plugins.module_utils.superset import (
    SupersetError,
    SupersetSession,
    created_here,
    database_filter,
    marker_extra,
    masked_uri,
    rison_string,
    same_uri,
    uri_with_credentials,
    uri_without_credentials,
)


def test_rison_strings_escape_bang_and_quote():
    assert rison_string("Doris OLAP") == "'Doris OLAP'"
    assert rison_string("it's!") == "'it!'s!!'"
    assert database_filter("Doris OLAP") == (
        "(columns:!(id,database_name),filters:!((col:database_name,opr:eq,value:'Doris OLAP')),page:0,page_size:100)")


def test_credentials_go_into_the_uri_quoted_and_are_masked_as_superset_shows_them():
    uri = uri_with_credentials("mysql://fe.doris:9030/information_schema", "admin", "p@ss:w/rd")
    assert uri == "mysql://admin:p%40ss%3Aw%2Frd@fe.doris:9030/information_schema"
    assert masked_uri(uri) == "mysql://admin:XXXXXXXXXX@fe.doris:9030/information_schema"
    assert uri_without_credentials(uri) == "mysql://fe.doris:9030/information_schema"
    assert same_uri("mysql://admin:XXXXXXXXXX@fe.doris:9030/information_schema", uri)
    assert not same_uri("mysql://admin:XXXXXXXXXX@fe.doris:9030/other", uri)
    assert masked_uri("mysql://fe.doris:9030/x") == "mysql://fe.doris:9030/x"


def test_the_marker_says_who_created_the_connection():
    assert created_here({"extra": marker_extra("doris")})
    assert json.loads(marker_extra("doris"))["lakehouse_platform"]["component"] == "doris"
    assert not created_here({"extra": '{"metadata_params": {}}'})
    assert not created_here({"extra": "not json"}) and not created_here({})


class FakeSuperset:
    """Answers like Superset: the login page with its csrf_token field, the form login's redirect."""

    def __init__(self, password):
        self.password, self.sent = password, []

    def __call__(self, method, path, query, body, headers):
        self.sent.append((method, path, headers.get("Cookie", ""), headers.get("X-CSRFToken")))
        if (method, path) == ("GET", "/login/"):
            return ServiceResponse(200, {"Set-Cookie": "session=s1; HttpOnly; Path=/"},
                                   b'<input type="hidden" name="csrf_token" id="csrf_token" value="form-token">', 1, "x")
        if (method, path) == ("POST", "/login/"):
            ok = b"password=" + self.password.encode() in body and b"csrf_token=form-token" in body
            return ServiceResponse(302, {"Location": "/" if ok else "/login/?next=/",
                                         "Set-Cookie": "session=%s; Path=/" % ("s2" if ok else "s1")}, b"", 1, "x")
        if path == "/api/v1/security/csrf_token/":
            if "session=s2" not in headers.get("Cookie", ""):
                return ServiceResponse(401, {}, b'{"msg": "Missing Authorization Header"}', 1, "x")
            return ServiceResponse(200, {}, b'{"result": "api-token"}', 1, "x")
        return ServiceResponse(404, {}, b"{}", 1, "x")


def test_the_form_login_keeps_the_session_cookie_and_fetches_the_csrf_token():
    fake = FakeSuperset("right")
    session = SupersetSession(fake, "service proxy ns/superset:8088")
    session.login("admin", "right", "form")
    assert session.csrf == "api-token" and session.cookies == {"session": "s2"}
    assert [(m, p, c) for m, p, c, _t in fake.sent] == [
        ("GET", "/login/", ""), ("POST", "/login/", "session=s1"), ("GET", "/api/v1/security/csrf_token/", "session=s2")]
    assert session.requests == ["GET /login/ -> 200", "POST /login/ -> 302", "GET /api/v1/security/csrf_token/ -> 200"]


def test_a_wrong_password_is_named_with_the_request_and_the_answer():
    session = SupersetSession(FakeSuperset("right"), "service proxy ns/superset:8088")
    with pytest.raises(SupersetError) as failure:
        session.login("admin", "wrong", "form")
    assert str(failure.value) == (
        "Superset login as admin refused: POST /login/ via service proxy ns/superset:8088 answered HTTP 302 to "
        "/login/?next=/ (Superset sends a wrong user name or password back to its login page)")
