"""The Python `kubernetes` client against Reddwarf: list, create, get, watch, delete.

Run by tests/python_client.rs with KUBECONFIG pointing at a fresh `reddwarf serve`.
Exits non-zero (with a traceback) on the first failed expectation.
"""
import os
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

config.load_kube_config(config_file=os.environ["KUBECONFIG"])
v1 = client.CoreV1Api()
ns = "default"


def pod(name, labels):
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels),
        spec=client.V1PodSpec(containers=[client.V1Container(name="c", image="nginx:1.27")]),
    )


version = client.VersionApi().get_code()
assert version.git_version.startswith("v1.33."), version

assert v1.list_namespaced_pod(ns).items == []

created = v1.create_namespaced_pod(ns, pod("py1", {"from": "py"}))
assert created.metadata.uid and created.metadata.resource_version, created.metadata
assert created.status.phase == "Pending"

got = v1.read_namespaced_pod("py1", ns)
assert got.metadata.uid == created.metadata.uid
assert got.spec.containers[0].image == "nginx:1.27"

listed = v1.list_namespaced_pod(ns, label_selector="from=py")
assert [p.metadata.name for p in listed.items] == ["py1"]

# Patches: strategic merge (a dict), JSON merge patch, JSON patch (a list).
patched = v1.patch_namespaced_pod("py1", ns, {"metadata": {"labels": {"patched": "strategic"}}})
assert patched.metadata.labels["patched"] == "strategic", patched.metadata.labels
patched = v1.patch_namespaced_pod(
    "py1", ns, {"metadata": {"annotations": {"via": "merge"}}}, _content_type="application/merge-patch+json"
)
assert patched.metadata.annotations["via"] == "merge"
patched = v1.patch_namespaced_pod(
    "py1", ns, [{"op": "replace", "path": "/spec/containers/0/image", "value": "nginx:1.28"}]
)
assert patched.spec.containers[0].image == "nginx:1.28"
try:
    v1.patch_namespaced_pod("py1", ns, [{"op": "remove", "path": "/nope"}])
    raise AssertionError("a bad JSON patch was accepted")
except ApiException as e:
    assert e.status == 422, e

# A watch without resourceVersion starts with ADDED for what exists, then live events.
seen = []


def later():
    time.sleep(0.5)
    v1.create_namespaced_pod(ns, pod("py2", {"from": "py"}))
    v1.create_namespaced_pod(ns, pod("other", {"from": "elsewhere"}))


threading.Thread(target=later).start()
w = watch.Watch()
for event in w.stream(v1.list_namespaced_pod, ns, label_selector="from=py", timeout_seconds=5):
    seen.append((event["type"], event["object"].metadata.name))
    if len(seen) == 2:
        w.stop()
assert seen == [("ADDED", "py1"), ("ADDED", "py2")], seen

deleted = v1.delete_namespaced_pod("py1", ns)
assert isinstance(deleted, client.V1Pod), type(deleted)
assert deleted.metadata.name == "py1"

try:
    v1.read_namespaced_pod("py1", ns)
    raise AssertionError("py1 still exists")
except ApiException as e:
    assert e.status == 404, e

cm = v1.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="cm1"), data={"a": "b"}))
assert cm.data == {"a": "b"}
status = v1.delete_namespaced_config_map("cm1", ns)
# This client version returns the Status as a plain dict.
status = status if isinstance(status, dict) else status.to_dict()
assert status["status"] == "Success" and status["details"]["name"] == "cm1", status

print("OK")
