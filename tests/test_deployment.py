"""What can be checked of the deployment without a Docker daemon: the compose file, the
Dockerfile's choices, and the image's entry commands in a clean virtual environment."""

import shlex
import site
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import production_environment
from tests.test_cli import free_port, wait_ready

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_runs_one_migration_the_app_waits_for():
    services = compose()["services"]
    assert set(services) == {"db", "migrate", "app"}
    migrate, app = services["migrate"], services["app"]
    assert "hotline migrate &&" in " ".join(migrate["command"])  # a failure stops the chain
    assert migrate["restart"] == "no"
    assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert app["image"] == migrate["image"]
    assert "command" not in app  # the image's own command: workers = cores


def test_compose_keeps_the_journal_and_audio_on_volumes_and_names_the_proxies():
    data = compose()
    app = data["services"]["app"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in app["volumes"]}
    assert mounts["/var/lib/hotline"] in data["volumes"]       # journal, directory snapshot
    assert mounts["/srv/hotline/audio"] in data["volumes"]
    assert "HOTLINE_TRUSTED_PROXIES" in app["environment"]
    migrate_mounts = " ".join(data["services"]["migrate"]["volumes"])
    assert "directory.yaml" in migrate_mounts


def test_the_dockerfile_installs_for_production_and_trusts_no_one_by_default():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install ." in dockerfile and "pip install -e" not in dockerfile
    assert "|| echo" not in dockerfile and "hotline migrate" not in _cmd(dockerfile)
    assert "forwarded-allow-ips" not in dockerfile and "--no-proxy-headers" in dockerfile
    assert "nproc" in _cmd(dockerfile)


def _cmd(dockerfile: str) -> str:
    return next(line for line in dockerfile.splitlines() if line.startswith("CMD"))


def test_the_docs_give_the_commands_of_a_first_start():
    docs = (ROOT / "docs" / "operations.md").read_text()
    for command in ("docker compose up -d", "docker compose run --rm migrate hotline user "
                    "create --role admin", "hotline directory import",
                    "hotline twilio setup", "hotline doctor"):
        assert command in docs, command


@pytest.fixture(scope="module")
def clean_venv(tmp_path_factory) -> Path:
    """A new virtual environment with the package installed as the image installs it (not
    editable); its dependencies are borrowed from the test environment, so no download."""
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    lib = next((venv / "lib").glob("python3*")) / "site-packages"
    (lib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "--no-deps",
                    str(ROOT)], check=True)
    return venv


def production_env(tmp_path: Path, database: Path) -> dict[str, str]:
    return production_environment(home=str(ROOT), data_dir=str(tmp_path),
                                  database_url=f"sqlite:///{database}")


def test_the_images_commands_run_from_an_installed_package(clean_venv, tmp_path):
    env = production_env(tmp_path, tmp_path / "hotline.db")
    bin_ = clean_venv / "bin"
    where = subprocess.run([str(bin_ / "python"), "-c", "import app; print(app.__file__)"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert str(clean_venv) in where.stdout  # the installed copy, not the checkout
    subprocess.run([str(bin_ / "hotline"), "migrate"], cwd=tmp_path, env=env, check=True)
    subprocess.run([str(bin_ / "hotline"), "directory", "import",
                    str(ROOT / "app" / "organisations" / "demo_directory.yaml")],
                   cwd=tmp_path, env=env, check=True, capture_output=True)
    port = free_port()
    command = _cmd((ROOT / "Dockerfile").read_text())
    uvicorn = shlex.split(command.split('"exec ', 1)[1].rsplit('"]', 1)[0].replace('\\"', '"'))
    assert uvicorn[0] == "uvicorn"  # its script is not in this venv: the module is
    uvicorn[:1] = [str(bin_ / "python"), "-m", "uvicorn"]
    uvicorn[uvicorn.index("--port") + 1] = str(port)
    uvicorn[uvicorn.index("--host") + 1] = "127.0.0.1"
    uvicorn[uvicorn.index("--workers") + 1] = "1"
    process = subprocess.Popen(uvicorn, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}/readyz", process)
        assert ready.json()["status"] == "ready"
        import httpx2 as httpx
        console = httpx.get(f"http://127.0.0.1:{port}/console/login", timeout=5)
        assert console.status_code == 200  # templates shipped in the package
        assert httpx.get(f"http://127.0.0.1:{port}/console/console.css").status_code == 200
    finally:
        process.terminate()
        process.communicate(timeout=10)
