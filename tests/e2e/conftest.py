"""Fixtures for end-to-end tests: a real mitmdump subprocess in front of the local fake provider.

    fake              the FakeProvider (session-wide server; queue, requests and failures cleared per test;
                      a test that leaves unconsumed failures, e.g. a gate timeout, errors at teardown)
    proxy             mitmdump + llmwall + routing, module-scoped. Extra options: a module-level
                      `PROXY_SETS = ["llmwall_mode=monitor"]`, or
                      `@pytest.mark.parametrize("proxy", [{"sets": [...]}], indirect=True)`
    bare_proxy        mitmdump with the routing addon only (no llmwall), module-scoped (`BARE_PROXY_SETS`)
    proxy_factory     function-scoped: proxy_factory(llmwall=..., sets=..., mode=...) -> Mitmdump,
                      stopped at the end of the test
    client_env        proxy.use_env(monkeypatch) done for you; returns the proxy
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.e2e.harness import Mitmdump, start_mitmdump  # noqa: E402
from tests.fakeprovider import FakeProvider  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def fake_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeProvider]:
    fake = FakeProvider(tmp_path_factory.mktemp("fakeprovider-certs")).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def fake(fake_provider: FakeProvider) -> Iterator[FakeProvider]:
    fake_provider.clear()
    yield fake_provider
    failures = fake_provider.take_failures()
    fake_provider.clear()
    if failures:
        pytest.fail("fake provider recorded failures the test did not take:\n  " + "\n  ".join(failures))


@pytest.fixture(scope="session")
def mitm_confdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One mitmproxy confdir (one CA) shared by every proxy of the session: the CA is made only once."""
    return tmp_path_factory.mktemp("mitmproxy-confdir")


class _Factory:
    def __init__(self, fake: FakeProvider, tmp: pytest.TempPathFactory, confdir: Path, name: str):
        self.fake, self.tmp, self.confdir, self.name = fake, tmp, confdir, name
        self.started: list[Mitmdump] = []

    def __call__(self, **kw: Any) -> Mitmdump:
        kw.setdefault("confdir", self.confdir)
        proxy = start_mitmdump(self.fake, self.tmp.mktemp(self.name), **kw)
        self.started.append(proxy)
        return proxy

    def stop_all(self) -> None:
        for p in self.started:
            p.stop()
        self.started.clear()


def _proxy_kwargs(request: pytest.FixtureRequest, attr: str) -> dict[str, Any]:
    kw: dict[str, Any] = {}
    param = getattr(request, "param", None)
    if isinstance(param, dict):
        kw.update(param)
    elif param is not None:
        kw["sets"] = list(param)
    if "sets" not in kw and request.module is not None:
        kw["sets"] = list(getattr(request.module, attr, ()))
    return kw


@pytest.fixture
def proxy_factory(fake_provider: FakeProvider, tmp_path_factory: pytest.TempPathFactory,
                  mitm_confdir: Path) -> Iterator[_Factory]:
    factory = _Factory(fake_provider, tmp_path_factory, mitm_confdir, "mitmdump")
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def _module_factory(fake_provider: FakeProvider, tmp_path_factory: pytest.TempPathFactory,
                    mitm_confdir: Path) -> Iterator[_Factory]:
    factory = _Factory(fake_provider, tmp_path_factory, mitm_confdir, "mitmdump-mod")
    try:
        yield factory
    finally:
        factory.stop_all()


@pytest.fixture(scope="module")
def proxy(request: pytest.FixtureRequest, _module_factory: _Factory) -> Iterator[Mitmdump]:
    p = _module_factory(llmwall=True, **_proxy_kwargs(request, "PROXY_SETS"))
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture(scope="module")
def bare_proxy(request: pytest.FixtureRequest, _module_factory: _Factory) -> Iterator[Mitmdump]:
    p = _module_factory(llmwall=False, **_proxy_kwargs(request, "BARE_PROXY_SETS"))
    try:
        yield p
    finally:
        p.stop()


@pytest.fixture
def client_env(proxy: Mitmdump, monkeypatch: pytest.MonkeyPatch) -> Mitmdump:
    proxy.use_env(monkeypatch)
    return proxy
