"""The backend's settings (tools/pep517/hpy_build/__init__.py): the ABI from the config setting
`hpy-abi`, else $HPY_ABI, else `[tool.hpy-build] abi`, else universal; the cargo profile."""
import pytest

import projects  # noqa: F401  (puts tools/pep517 on sys.path)

import hpy_build

PYPROJECT_NATIVE = {"tool": {"hpy-build": {"abi": "native"}}}


@pytest.fixture(autouse=True)
def no_hpy_abi(monkeypatch):
    monkeypatch.delenv("HPY_ABI", raising=False)


def test_abi_default_is_universal():
    assert hpy_build._abi(None, {}) == "universal"
    assert hpy_build._abi({}, None) == "universal"


def test_abi_order(monkeypatch):
    assert hpy_build._abi({}, PYPROJECT_NATIVE) == "native"
    monkeypatch.setenv("HPY_ABI", "abi3")
    assert hpy_build._abi({}, PYPROJECT_NATIVE) == "abi3"
    assert hpy_build._abi({"hpy-abi": "universal"}, PYPROJECT_NATIVE) == "universal"
    # given more than once (-C hpy-abi=a -C hpy-abi=b): the last one
    assert hpy_build._abi({"hpy-abi": ["native", "universal"]}, {}) == "universal"
    monkeypatch.setenv("HPY_ABI", "")   # empty: as unset
    assert hpy_build._abi({}, PYPROJECT_NATIVE) == "native"


@pytest.mark.parametrize("settings, env, pyproject, source", [
    ({"hpy-abi": "cpython"}, None, {}, "config setting hpy-abi"),
    ({}, "nativ", {}, "HPY_ABI"),
    ({}, None, {"tool": {"hpy-build": {"abi": "fast"}}}, r"\[tool.hpy-build\] abi"),
])
def test_unknown_abi_names_where_it_came_from(monkeypatch, settings, env, pyproject, source):
    if env is not None:
        monkeypatch.setenv("HPY_ABI", env)
    with pytest.raises(ValueError, match="unknown ABI .* %s.*universal, native, abi3" % source):
        hpy_build._abi(settings, pyproject)


def test_profile():
    assert hpy_build._profile(None, "release") == "release"
    assert hpy_build._profile({}, "dev") == "dev"
    assert hpy_build._profile({"hpy-profile": "release"}, "dev") == "release"
    with pytest.raises(ValueError, match="unknown profile 'fast'.*release, dev"):
        hpy_build._profile({"hpy-profile": "fast"}, "dev")


def test_hooks():
    # PEP 517 and PEP 660: what a frontend looks up
    for hook in ("build_wheel", "build_sdist", "build_editable", "get_requires_for_build_wheel",
                 "get_requires_for_build_sdist", "get_requires_for_build_editable"):
        assert callable(getattr(hpy_build, hook)), hook
    assert hpy_build.get_requires_for_build_editable() == []
