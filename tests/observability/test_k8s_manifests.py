"""docker/k8s: every manifest valid against the Kubernetes schemas (offline, kubernetes-validate), and consistent
with the Procfile, the queues and the README's settings."""

import copy
import re
import shlex
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "docker" / "k8s" / "base"
OVERLAY = ROOT / "docker" / "k8s" / "overlays" / "production"
OPTIONAL = ROOT / "docker" / "k8s" / "optional"
K8S_VERSION = "1.32.0"


def _docs(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def _base() -> list[dict]:
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    return [doc for name in kustomization["resources"] for doc in _docs(BASE / name)]


def _by(docs, kind):
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def _procfile() -> dict[str, list[str]]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return {name: shlex.split(command) for name, _, command in (line.partition(": ") for line in lines if line)}


def _container(doc) -> dict:
    return doc["spec"]["template"]["spec"]["containers"][0]


def test_kustomization_lists_every_base_manifest():
    kustomization = yaml.safe_load((BASE / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in BASE.glob("*.yaml") if p.name != "kustomization.yaml"
    )


@pytest.mark.parametrize("doc", _base(), ids=lambda doc: f"{doc['kind']}/{doc['metadata']['name']}")
def test_base_manifest_is_valid_against_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _merge(target: dict, patch: dict) -> dict:
    merged = copy.deepcopy(target)
    for key, value in patch.items():
        merged[key] = _merge(merged.get(key, {}), value) if isinstance(value, dict) else value
    return merged


def test_production_overlay_patches_existing_resources_and_stays_valid():
    kustomization = yaml.safe_load((OVERLAY / "kustomization.yaml").read_text())
    assert kustomization["resources"] == ["../../base"]
    assert [image["name"] for image in kustomization["images"]] == ["trendsite"]
    base = {(doc["kind"], doc["metadata"]["name"]): doc for doc in _base()}
    for entry in kustomization["patches"]:
        patch = yaml.safe_load((OVERLAY / entry["path"]).read_text())
        key = (patch["kind"], patch["metadata"]["name"])
        assert key in base, f"{entry['path']} patches {key}, which the base does not define"
        kubernetes_validate.validate(_merge(base[key], patch), K8S_VERSION, strict=True)


def test_web_has_a_service_probes_on_healthz_and_readyz_and_the_procfile_command():
    web = _by(_base(), "Deployment")["trendsite-web"]
    container = _container(web)
    assert container["command"] == _procfile()["web"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    service = _by(_base(), "Service")["trendsite-web"]
    assert service["spec"]["selector"] == web["spec"]["selector"]["matchLabels"]


def test_worker_groups_run_the_procfile_worker_and_together_consume_every_queue():
    procfile = _procfile()["worker"]
    queue_at = procfile.index("-Q") + 1
    workers = {name: doc for name, doc in _by(_base(), "Deployment").items() if "-worker-" in name}
    assert set(workers) == {f"trendsite-worker-{g}" for g in ("collect", "embed", "pipeline", "alerts", "maintenance")}
    consumed = []
    for doc in workers.values():
        command = _container(doc)["command"]
        expected = [*procfile[:queue_at], command[queue_at], *procfile[queue_at + 1 :]]
        # The Procfile's shell default becomes Kubernetes' own $(VAR) expansion from the ConfigMap.
        expected = [re.sub(r"\$\{(\w+):-[^}]*\}", r"$(\1)", part) for part in expected]
        assert command == expected
        consumed += command[queue_at].split(",")
    assert sorted(consumed) == sorted(procfile[queue_at].split(",")) == sorted(settings.CELERY_QUEUES)


def test_beat_is_one_replica_recreated_and_migrate_job_is_the_release_command():
    beat = _by(_base(), "Deployment")["trendsite-beat"]
    assert beat["spec"]["replicas"] == 1 and beat["spec"]["strategy"] == {"type": "Recreate"}
    assert _container(beat)["command"] == _procfile()["beat"]
    job = _by(_base(), "Job")["trendsite-migrate"]
    release = (ROOT / "Procfile").read_text().split("release: ", 1)[1].splitlines()[0]
    assert _container(job)["command"] == ["sh", "-c", release]


def test_every_readme_setting_is_in_the_configmap_or_a_secret_reference():
    section = (ROOT / "README.md").read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = {
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1])
    }
    config = set(_by(_base(), "ConfigMap")["trendsite-config"]["data"])
    for doc in _base():
        if doc["kind"] not in ("Deployment", "Job"):
            continue
        container = _container(doc)
        secrets = {e["valueFrom"]["secretKeyRef"]["key"] for e in container["env"] if "valueFrom" in e}
        assert {"DATABASE_URL", "SECRET_KEY", "METRICS_TOKEN"} <= secrets
        assert container["envFrom"] == [{"configMapRef": {"name": "trendsite-config"}}]
        missing = listed - config - secrets
        assert not missing, f"{doc['metadata']['name']}: README settings with no reference: {sorted(missing)}"


def test_every_container_has_requests_limits_and_the_one_image():
    for doc in _base():
        if doc["kind"] in ("Deployment", "Job"):
            container = _container(doc)
            assert container["image"] == "trendsite"
            assert set(container["resources"]) == {"requests", "limits"}
            assert {"cpu", "memory"} <= set(container["resources"]["limits"])


def test_disruption_budgets_cover_web_and_workers_and_autoscalers_target_workers():
    docs = _base()
    deployments = _by(docs, "Deployment")
    budgets = {
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"]
        for d in _by(docs, "PodDisruptionBudget").values()
    }
    components = {d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for d in deployments.values()}
    assert budgets == components - {"beat"}  # one beat: a budget would block every node drain
    for hpa in _by(docs, "HorizontalPodAutoscaler").values():
        assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
        assert "-worker-" in hpa["spec"]["scaleTargetRef"]["name"]


def test_optional_monitors_scrape_the_web_with_the_token_and_workers_on_their_port():
    service_monitor, pod_monitor = _docs(OPTIONAL / "servicemonitor.yaml")
    endpoint = service_monitor["spec"]["endpoints"][0]
    assert endpoint["path"] == "/metrics" and endpoint["authorization"]["credentials"]["key"] == "METRICS_TOKEN"
    workers = [d for n, d in _by(_base(), "Deployment").items() if "-worker-" in n]
    for doc in workers:
        container = _container(doc)
        assert {"name": "metrics", "containerPort": 9808} in container["ports"]
        assert {"name": "CELERY_METRICS_PORT", "value": "9808"} in container["env"]
    components = pod_monitor["spec"]["selector"]["matchExpressions"][0]["values"]
    assert sorted(components) == sorted(
        d["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"] for d in workers
    )
