"""Label/field selector grammar and matching, as apimachinery's labels.Parse and fields.ParseSelector."""
import pytest

from tests.kubeapi.errors import ApiError
from tests.kubeapi.selectors import FieldSelector, LabelSelector, ObjectFilter

LABELS = {"app": "web", "tier": "front", "release": "1"}


@pytest.mark.parametrize("selector, expected", [
    ("", True),
    ("app=web", True),
    ("app==web", True),
    ("app=db", False),
    ("app!=db", True),
    ("app!=web", False),
    ("missing!=x", True),            # != matches objects without the label
    ("app in (web,db)", True),
    ("app in (db, cache)", False),
    ("app notin (db,cache)", True),
    ("app notin (web)", False),
    ("missing notin (x)", True),
    ("tier", True),
    ("missing", False),
    ("!missing", True),
    ("!tier", False),
    ("app=web,tier in (front,back),!missing", True),
    ("app=web,tier=back", False),
    ("release>0", True),
    ("release<1", False),
])
def test_label_selector_matches(selector, expected):
    assert LabelSelector.parse(selector).matches(LABELS) is expected


def test_label_selector_on_unlabelled_object():
    assert LabelSelector.parse("!app").matches(None)
    assert not LabelSelector.parse("app").matches(None)


@pytest.mark.parametrize("bad", ["app=web,=x", "app in web", "a b c"])
def test_label_selector_parse_error_is_bad_request(bad):
    with pytest.raises(ApiError) as caught:
        LabelSelector.parse(bad)
    assert caught.value.code == 400


def test_field_selector_on_nested_fields():
    pod = {"metadata": {"name": "p", "namespace": "ns"}, "status": {"phase": "Running"},
           "spec": {"nodeName": "n1"}}
    assert FieldSelector.parse("metadata.name=p,status.phase=Running").matches(pod)
    assert FieldSelector.parse("spec.nodeName==n1").matches(pod)
    assert not FieldSelector.parse("status.phase!=Running").matches(pod)
    assert FieldSelector.parse("spec.missing=").matches(pod)


def test_object_filter_combines_namespace_labels_and_fields():
    obj = {"metadata": {"name": "a", "namespace": "ns1", "labels": {"app": "x"}}}
    assert ObjectFilter("ns1", "app=x", "metadata.name=a").matches(obj)
    assert not ObjectFilter("ns2").matches(obj)
    assert ObjectFilter(None, "app", "").matches(obj)
    assert not ObjectFilter(None, "", "metadata.name=b").matches(obj)
