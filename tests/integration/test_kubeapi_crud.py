"""The test API server's REST semantics, checked over HTTP: discovery, CRUD, errors, metadata, status."""
import base64

CM = "/api/v1/namespaces/{ns}/configmaps"


def _cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "demo"}},
            "data": data}


def test_discovery_documents(kube_api):
    status, version, _headers = kube_api.request("GET", "/version")
    assert status == 200 and version["major"] == "1"
    _status, api, _headers = kube_api.request("GET", "/api")
    assert api["kind"] == "APIVersions" and api["versions"] == ["v1"]
    _status, core, _headers = kube_api.request("GET", "/api/v1")
    assert core["groupVersion"] == "v1"
    pods = next(r for r in core["resources"] if r["name"] == "pods")
    assert pods["kind"] == "Pod" and pods["namespaced"] and pods["singularName"] == "pod"
    assert "po" in pods["shortNames"] and {"get", "list", "watch", "create", "patch"} <= set(pods["verbs"])
    assert any(r["name"] == "pods/status" for r in core["resources"])
    _status, groups, _headers = kube_api.request("GET", "/apis")
    by_name = {g["name"]: g for g in groups["groups"]}
    assert by_name["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    assert [v["version"] for v in by_name["ray.io"]["versions"]] == ["v1", "v1alpha1"]  # storage first
    _status, ray, _headers = kube_api.request("GET", "/apis/ray.io/v1alpha1")
    assert {r["name"] for r in ray["resources"]} == {"rayclusters", "rayclusters/status"}
    status, _body, _headers = kube_api.request("GET", "/apis/nope.io/v1")
    assert status == 404


def test_create_get_list_and_list_shape(kube_api, kube_namespace):
    status, created, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), _cm("one", a="1"))
    assert status == 201
    meta = created["metadata"]
    assert meta["namespace"] == kube_namespace and len(meta["uid"]) == 36
    assert meta["creationTimestamp"].endswith("Z") and int(meta["resourceVersion"]) > 0
    status, fetched, _headers = kube_api.request("GET", CM.format(ns=kube_namespace) + "/one")
    assert status == 200 and fetched["data"] == {"a": "1"}
    status, listing, _headers = kube_api.request("GET", CM.format(ns=kube_namespace))
    assert listing["kind"] == "ConfigMapList" and listing["apiVersion"] == "v1"
    assert int(listing["metadata"]["resourceVersion"]) >= int(meta["resourceVersion"])
    assert [i["metadata"]["name"] for i in listing["items"]] == ["one"]
    _status, everywhere, _headers = kube_api.request("GET", "/api/v1/configmaps?fieldSelector=metadata.namespace%3D"
                                                     + kube_namespace)
    assert [i["metadata"]["name"] for i in everywhere["items"]] == ["one"]


def test_generate_name(kube_api, kube_namespace):
    body = {"metadata": {"generateName": "job-"}, "data": {}}
    _status, first, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), body)
    _status, second, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), body)
    assert first["metadata"]["name"].startswith("job-") and len(first["metadata"]["name"]) == 9
    assert first["metadata"]["name"] != second["metadata"]["name"]


def test_error_statuses_are_shaped_like_kube_apiserver(kube_api, kube_namespace):
    status, missing, _headers = kube_api.request("GET", CM.format(ns=kube_namespace) + "/x")
    assert status == 404
    assert missing == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                       "message": 'configmaps "x" not found', "reason": "NotFound",
                       "details": {"name": "x", "kind": "configmaps"}, "code": 404}
    kube_api.request("POST", CM.format(ns=kube_namespace), _cm("dup"))
    status, exists, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), _cm("dup"))
    assert status == 409 and exists["reason"] == "AlreadyExists"
    assert exists["message"] == 'configmaps "dup" already exists'
    status, no_ns, _headers = kube_api.request("POST", CM.format(ns="no-such-ns"), _cm("a"))
    assert status == 404 and no_ns["message"] == 'namespaces "no-such-ns" not found'
    status, grouped, _headers = kube_api.request("GET", f"/apis/apps/v1/namespaces/{kube_namespace}/deployments/web")
    assert grouped["message"] == 'deployments.apps "web" not found'
    assert grouped["details"] == {"name": "web", "group": "apps", "kind": "deployments"}
    status, bad_name, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), _cm("Bad_Name"))
    assert status == 422 and bad_name["reason"] == "Invalid"
    assert bad_name["details"]["causes"][0]["field"] == "metadata.name"
    status, bad_json, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), b"{not json")
    assert status == 400 and bad_json["reason"] == "BadRequest"
    status, _body, _headers = kube_api.request("POST", CM.format(ns=kube_namespace) + "/dup", _cm("dup"))
    assert status == 405
    status, _body, _headers = kube_api.request("PATCH", CM.format(ns=kube_namespace) + "/dup", {}, content_type="text/plain")
    assert status == 415


def test_put_requires_current_resource_version_and_existing_object(kube_api, kube_namespace):
    path = CM.format(ns=kube_namespace) + "/cfg"
    _status, created, _headers = kube_api.request("POST", CM.format(ns=kube_namespace), _cm("cfg", a="1"))
    stale = dict(created, data={"a": "2"})
    _status, updated, _headers = kube_api.request("PUT", path, stale)
    assert updated["data"] == {"a": "2"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    assert updated["metadata"]["uid"] == created["metadata"]["uid"]
    status, conflict, _headers = kube_api.request("PUT", path, dict(stale, data={"a": "3"}))
    assert status == 409 and conflict["reason"] == "Conflict"
    assert conflict["message"] == ('Operation cannot be fulfilled on configmaps "cfg": the object has been '
                                   "modified; please apply your changes to the latest version and try again")
    status, _body, _headers = kube_api.request("PUT", CM.format(ns=kube_namespace) + "/ghost", _cm("ghost"))
    assert status == 404
    status, _body, _headers = kube_api.request("PUT", path, _cm("other"))
    assert status == 400


def test_generation_tracks_spec_only(kube_api, kube_namespace):
    path = f"/apis/apps/v1/namespaces/{kube_namespace}/deployments"
    body = {"metadata": {"name": "web"}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "w"}},
            "template": {"metadata": {"labels": {"app": "w"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}
    _status, created, _headers = kube_api.request("POST", path, body)
    assert created["metadata"]["generation"] == 1 and "status" not in created
    merge = "application/merge-patch+json"
    _status, labelled, _headers = kube_api.request("PATCH", path + "/web", {"metadata": {"labels": {"x": "y"}}}, merge)
    assert labelled["metadata"]["generation"] == 1
    _status, status_only, _headers = kube_api.request("PATCH", path + "/web/status", {"status": {"replicas": 1}}, merge)
    assert status_only["metadata"]["generation"] == 1 and status_only["status"] == {"replicas": 1}
    _status, scaled, _headers = kube_api.request("PATCH", path + "/web", {"spec": {"replicas": 3}}, merge)
    assert scaled["metadata"]["generation"] == 2
    _status, same, _headers = kube_api.request("PATCH", path + "/web", {"spec": {"replicas": 3}}, merge)
    assert same["metadata"]["generation"] == 2
    assert same["metadata"]["resourceVersion"] == scaled["metadata"]["resourceVersion"]  # no-op: no write


def test_status_subresource_is_separate_from_the_main_resource(kube_api, kube_namespace):
    path = f"/apis/ray.io/v1/namespaces/{kube_namespace}/rayclusters"
    head = {"template": {"spec": {"containers": [{"name": "head", "image": "ray"}]}}}
    body = {"apiVersion": "ray.io/v1", "kind": "RayCluster", "metadata": {"name": "rc"},
            "spec": {"headGroupSpec": head}, "status": {"state": "ready"}}
    _status, created, _headers = kube_api.request("POST", path, body)
    assert "status" not in created  # status is reset on create
    _status, put_status, _headers = kube_api.request("PUT", path + "/rc/status",
                                                     dict(created, status={"state": "ready"}, spec={"suspend": True}))
    assert put_status["status"] == {"state": "ready"} and "suspend" not in put_status["spec"]
    assert put_status["metadata"]["generation"] == 1
    _status, main_put, _headers = kube_api.request("PUT", path + "/rc", dict(put_status, status={"state": "failed"}))
    assert main_put["status"] == {"state": "ready"}  # status writes through the main resource are ignored
    _status, fetched, _headers = kube_api.request("GET", path + "/rc/status")
    assert fetched["status"] == {"state": "ready"}
    status, _body, _headers = kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}/configmaps/x/status")
    assert status == 404  # ConfigMaps have no status subresource


def test_builtin_defaulting(kube_api, kube_namespace):
    _status, secret, _headers = kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/secrets", {
        "metadata": {"name": "s"}, "stringData": {"password": "hunter2"}, "data": {"user": "YWRtaW4="}})
    assert "stringData" not in secret and secret["type"] == "Opaque"
    assert base64.b64decode(secret["data"]["password"]) == b"hunter2" and secret["data"]["user"] == "YWRtaW4="
    _status, service, _headers = kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/services", {
        "metadata": {"name": "svc"}, "spec": {"ports": [{"port": 80}], "selector": {"app": "a"}}})
    assert service["spec"]["clusterIP"].startswith("10.96.") and service["spec"]["type"] == "ClusterIP"
    assert service["spec"]["ports"] == [{"port": 80, "protocol": "TCP", "targetPort": 80}]
    _status, pod, _headers = kube_api.request("POST", f"/api/v1/namespaces/{kube_namespace}/pods", {
        "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
    assert pod["status"]["phase"] == "Pending"
    _status, namespace, _headers = kube_api.request("GET", f"/api/v1/namespaces/{kube_namespace}")
    assert namespace["status"]["phase"] == "Active"
    assert namespace["metadata"]["labels"]["kubernetes.io/metadata.name"] == kube_namespace


def test_cluster_scoped_objects(kube_api):
    _status, node, _headers = kube_api.request("POST", "/api/v1/nodes",
                                               {"metadata": {"name": "node-crud"}, "status": {"capacity": {"cpu": "4"}}})
    assert "namespace" not in node["metadata"] and node["status"]["capacity"] == {"cpu": "4"}
    status, _body, _headers = kube_api.request("GET", "/api/v1/namespaces/default/nodes/node-crud")
    assert status == 404  # a cluster-scoped type has no namespaced path
    status, deleted, _headers = kube_api.request("DELETE", "/api/v1/nodes/node-crud")
    assert status == 200 and deleted["status"] == "Success" and deleted["details"]["name"] == "node-crud"


def test_label_and_field_selectors(kube_api, kube_namespace):
    for name, labels in [("a", {"tier": "web", "env": "prod"}), ("b", {"tier": "db", "env": "prod"}),
                         ("c", {"tier": "web"})]:
        kube_api.request("POST", CM.format(ns=kube_namespace), {"metadata": {"name": name, "labels": labels}})

    def names(query):
        _status, listing, _headers = kube_api.request("GET", CM.format(ns=kube_namespace) + "?" + query)
        return [i["metadata"]["name"] for i in listing["items"]]

    assert names("labelSelector=tier%3Dweb") == ["a", "c"]
    assert names("labelSelector=tier%3D%3Dweb,env%3Dprod") == ["a"]
    assert names("labelSelector=env%21%3Dprod") == ["c"]
    assert names("labelSelector=tier+in+(db,cache)") == ["b"]
    assert names("labelSelector=tier+notin+(db)") == ["a", "c"]
    assert names("labelSelector=env") == ["a", "b"]
    assert names("labelSelector=%21env") == ["c"]
    assert names("fieldSelector=metadata.name%3Db") == ["b"]
    assert names("fieldSelector=metadata.name%21%3Db&labelSelector=env") == ["a"]
    status, error, _headers = kube_api.request("GET", CM.format(ns=kube_namespace) + "?labelSelector=a+b")
    assert status == 400


def test_request_counters_split_dry_run_from_writes(kube_api, kube_namespace):
    kube_api.reset_counts()
    kube_api.request("POST", CM.format(ns=kube_namespace) + "?dryRun=All", _cm("dry"))
    kube_api.request("POST", CM.format(ns=kube_namespace), _cm("wet"))
    kube_api.request("GET", CM.format(ns=kube_namespace) + "/wet")
    kube_api.request("GET", CM.format(ns=kube_namespace))
    counts = kube_api.request_counts()
    assert counts.count(verb="create", resource="configmaps", dry_run=True) == 1
    assert counts.count(verb="create", resource="configmaps", dry_run=False) == 1
    assert counts.count(verb="get", resource="configmaps") == 1
    assert counts.count(verb="list", resource="configmaps") == 1
    assert counts.writes() == 1 and counts.dry_run_writes() == 1
    _status, raw, _headers = kube_api.request("GET", "/_test/requests")
    assert raw["totals"]["writes"] == 1 and raw["totals"]["dry_run_writes"] == 1
