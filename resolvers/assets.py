"""GraphiQL for browsers, served by the hub from a local copy.

School networks are slow and some users are offline, so the hub serves GraphiQL and React
itself. The files come from the npm registry as published packages (checked against the
registry's sha512 integrity), unpacked into the data folder by ``bilim assets install`` or on
the first ``bilim serve``; they are never committed to the repository.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import re
import shutil
import subprocess
import tarfile
from pathlib import Path

log = logging.getLogger("bilim.assets")

DEFAULT_REGISTRY = "https://registry.npmjs.org"
REGISTRY_VARIABLES = ("BILIM_NPM_REGISTRY", "NPM_CONFIG_REGISTRY", "npm_config_registry")
_NPMRC_REGISTRY = re.compile(r"^\s*registry\s*=\s*(\S+)\s*$", re.MULTILINE)


class AssetsUnavailable(RuntimeError):
    """The packages could not be fetched; the message says from where and what to do."""


def registry() -> str:
    """The npm registry this machine uses: ``BILIM_NPM_REGISTRY``, npm's own environment
    setting (``NPM_CONFIG_REGISTRY``), the user's ``.npmrc``, what ``npm config get registry``
    answers when npm is installed, else the public registry."""
    for name in REGISTRY_VARIABLES:
        if os.environ.get(name):
            return os.environ[name].rstrip("/")
    npmrc = Path(os.environ.get("NPM_CONFIG_USERCONFIG") or Path.home() / ".npmrc")
    if npmrc.is_file():
        found = _NPMRC_REGISTRY.search(npmrc.read_text(errors="replace"))
        if found:
            return found.group(1).rstrip("/")
    npm = shutil.which("npm")
    if npm is not None:
        try:
            answer = subprocess.run(
                [npm, "config", "get", "registry"],
                capture_output=True,
                text=True,
                timeout=10,
                check=True,
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            answer = ""
        if answer.startswith(("http://", "https://")):
            return answer.rstrip("/")
    return DEFAULT_REGISTRY


# package, version, files wanted from the tarball (under package/)
PACKAGES: list[tuple[str, str, list[str]]] = [
    ("react", "18.3.1", ["umd/react.production.min.js"]),
    ("react-dom", "18.3.1", ["umd/react-dom.production.min.js"]),
    ("graphiql", "3.8.3", ["graphiql.min.js", "graphiql.min.css"]),
    # The /stats page's charts (schema/http/stats.py).
    ("chart.js", "4.6.1", ["dist/chart.umd.min.js"]),
]
FILES = {
    "react.js": ("react", "umd/react.production.min.js"),
    "react-dom.js": ("react-dom", "umd/react-dom.production.min.js"),
    "graphiql.js": ("graphiql", "graphiql.min.js"),
    "graphiql.css": ("graphiql", "graphiql.min.css"),
    "chart.js": ("chart.js", "dist/chart.umd.min.js"),
}
CDN = {
    "react.js": "https://unpkg.com/react@18.3.1/umd/react.production.min.js",
    "react-dom.js": "https://unpkg.com/react-dom@18.3.1/umd/react-dom.production.min.js",
    "graphiql.js": "https://unpkg.com/graphiql@3.8.3/graphiql.min.js",
    "graphiql.css": "https://unpkg.com/graphiql@3.8.3/graphiql.min.css",
}


def assets_dir(data_dir: Path) -> Path:
    return data_dir / "assets" / "graphiql"


def installed(data_dir: Path) -> bool:
    folder = assets_dir(data_dir)
    return all((folder / name).is_file() for name in FILES)


def install(data_dir: Path, *, timeout: float = 30.0, only: frozenset[str] | None = None) -> Path:
    """Fetch the packages from the npm registry (all, or the ``only`` ones), verify them, and
    unpack the browser builds. :class:`AssetsUnavailable` when the registry cannot be reached
    or answers with an error."""
    # Imported here: a hub worker imports this module for GraphiQL's page but only fetches
    # from the registry when told to (httpx with its command line's rich: ~4 MB a worker).
    import httpx

    source = registry()
    try:
        return _install(source, data_dir, timeout=timeout, only=only)
    except httpx.HTTPError as err:
        reason = (
            f"HTTP {err.response.status_code}"
            if isinstance(err, httpx.HTTPStatusError)
            else type(err).__name__
        )
        raise AssetsUnavailable(
            f"cannot fetch GraphiQL's files from the npm registry {source} ({reason}); "
            "when online run `bilim assets install`, or set BILIM_NPM_REGISTRY (or npm's "
            "registry) to a registry this machine can reach"
        ) from err


def _install(source: str, data_dir: Path, *, timeout: float, only: frozenset[str] | None) -> Path:
    import httpx

    folder = assets_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    with httpx.Client(timeout=timeout, follow_redirects=True) as client:
        for package, version, wanted in PACKAGES:
            if only is not None and package not in only:
                continue
            meta = client.get(f"{source}/{package}/{version}")
            meta.raise_for_status()
            dist = meta.json()["dist"]
            tarball = client.get(dist["tarball"])
            tarball.raise_for_status()
            algorithm, _, expected = dist["integrity"].partition("-")
            digest = base64.b64encode(hashlib.new(algorithm, tarball.content).digest()).decode()
            if digest != expected:
                raise RuntimeError(f"{package}@{version}: integrity check failed")
            with tarfile.open(fileobj=io.BytesIO(tarball.content), mode="r:gz") as archive:
                for name, (pkg, inner) in FILES.items():
                    if pkg != package or inner not in wanted:
                        continue
                    member = archive.extractfile(f"package/{inner}")
                    if member is None:
                        raise RuntimeError(f"{package}@{version} has no {inner}")
                    (folder / name).write_bytes(member.read())
    (folder / "versions.json").write_text(json.dumps({p: v for p, v, _ in PACKAGES}, indent=2))
    return folder


def page(*, local: bool, endpoint: str = "/graphql") -> str:
    """The GraphiQL page: local assets when installed, otherwise the CDN with a note."""

    def src(name: str) -> str:
        return f"/graphiql/{name}" if local else CDN[name]

    note = (
        ""
        if local
        else (
            '<div style="padding:6px 12px;background:#fff3cd;font:14px sans-serif">'
            "GraphiQL is loading from a CDN because the local copy is missing. "
            "Run <code>bilim assets install</code> on the server to serve it offline.</div>"
        )
    )
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Bilim Hub - GraphiQL</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="{src("graphiql.css")}">
  <style>html, body {{ height: 100%; margin: 0; }} #graphiql {{ height: 100vh; }}</style>
</head>
<body>
  {note}
  <div id="graphiql">Loading GraphiQL...</div>
  <script src="{src("react.js")}"></script>
  <script src="{src("react-dom.js")}"></script>
  <script src="{src("graphiql.js")}"></script>
  <script>
    const fetcher = GraphiQL.createFetcher({{ url: "{endpoint}" }});
    const root = ReactDOM.createRoot(document.getElementById("graphiql"));
    root.render(React.createElement(GraphiQL, {{
      fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders: '{{"Authorization": "Bearer <token from: bilim token --role ministry>"}}',
    }}));
  </script>
</body>
</html>"""
