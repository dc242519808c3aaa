"""The storefront: lazy public names, and no export that a submodule of the same name could shadow."""

import pytest

from gan3d_lib.core.lazy import storefront


def test_a_public_name_that_is_also_a_module_name_is_refused():
    with pytest.raises(ValueError, match=r"\['roofline'\] are also module names"):
        storefront("gan3d_lib.speed", {"roofline": ("roofline",)}, ("roofline",))


def test_names_resolve_lazily_and_unknown_names_list_the_public_ones():
    getattr_, dir_, public = storefront("gan3d_lib.core", {"tables": ("plus_minus",)}, ("tables",))
    assert getattr_("plus_minus")(1.0, 0.5) == __import__("gan3d_lib.core.tables", fromlist=["x"]).plus_minus(1.0, 0.5)
    assert public == ("plus_minus", "tables") and dir_() == ["plus_minus", "tables"]
    with pytest.raises(AttributeError, match="its public names: plus_minus, tables"):
        getattr_("nothing")


def test_every_chapter_name_is_a_function_after_its_module_was_imported():
    """The shadowing that broke chapter 4: import the module first, then the name."""
    import gan3d_lib.speed.rooflines  # noqa: F401
    from gan3d_lib.speed import roofline

    assert callable(roofline) and roofline.__module__ == "gan3d_lib.speed.rooflines"
