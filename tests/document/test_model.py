from __future__ import annotations

import logging
import math
from typing import Any

import pytest

from docsync.document import Document, MessageSentEvent, Model
from docsync.document.model import new_model_id
from docsync.document.models import Button, Column, ColumnDataSource, Slider
from docsync.document.properties import Float, Int, List, String
from docsync.document.registry import model_class, register_model_class, registered_names
from docsync.exceptions import DeserializationError

from .helpers import TstLeaf, TstNode


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    def __call__(self, *args: Any) -> None:
        self.calls.append(args)


class TestIdentity:
    def test_ids_are_unique_strings(self) -> None:
        ids = {TstLeaf().id for _ in range(1000)} | {new_model_id() for _ in range(1000)}
        assert len(ids) == 2000
        assert all(isinstance(i, str) and i for i in ids)

    def test_explicit_id(self) -> None:
        assert TstLeaf(id="fixed").id == "fixed"

    def test_id_is_read_only(self) -> None:
        with pytest.raises(AttributeError):
            TstLeaf().id = "x"  # type: ignore[misc]

    def test_repr_names_type_and_id(self) -> None:
        assert repr(TstLeaf(id="a1")) == "TstLeaf(id='a1')"

    def test_every_model_has_a_name(self) -> None:
        leaf = TstLeaf(name="first")
        assert leaf.name == "first"
        assert TstLeaf().name is None
        assert "name" in TstLeaf.properties()

    def test_models_are_slotted(self) -> None:
        # Lean models: no per-instance __dict__.
        assert not hasattr(Slider(), "__dict__")
        assert not hasattr(TstNode(), "__dict__")

    def test_document_is_none_outside_a_document(self) -> None:
        assert TstLeaf().document is None


class TestPropertiesApi:
    def test_lookup(self) -> None:
        assert Slider.lookup("value") is Slider.value
        with pytest.raises(AttributeError, match=r"^Slider has no property 'nope'$"):
            Slider.lookup("nope")

    def test_properties_include_inherited(self) -> None:
        props = Slider.properties()
        assert {"name", "disabled", "width", "visible", "title", "start", "end", "step", "value"} <= set(props)

    def test_properties_with_values(self) -> None:
        slider = Slider(value=0.3, title="t")
        assert slider.properties_with_values(include_defaults=False) == {"value": 0.3, "title": "t"}
        everything = slider.properties_with_values()
        assert everything["value"] == 0.3 and everything["end"] == 1.0

    def test_only_set_values_are_stored(self) -> None:
        slider = Slider()
        assert slider.properties_with_values(include_defaults=False) == {}
        slider.value = 0.0  # same as default, still an explicit value
        assert slider.properties_with_values(include_defaults=False) == {"value": 0.0}


class TestOnChange:
    def test_callback_gets_attr_old_new(self) -> None:
        slider = Slider()
        record = Recorder()
        slider.on_change("value", record)
        slider.value = 0.5
        slider.value = 0.75
        assert record.calls == [("value", 0.0, 0.5), ("value", 0.5, 0.75)]

    def test_no_callback_when_value_is_the_same(self) -> None:
        slider = Slider(value=0.5)
        record = Recorder()
        slider.on_change("value", record)
        slider.value = 0.5
        slider.value = 0.5
        assert record.calls == []

    def test_nan_to_nan_is_no_change(self) -> None:
        slider = Slider(value=math.nan)
        record = Recorder()
        slider.on_change("value", record)
        slider.value = math.nan
        assert record.calls == []

    def test_only_watched_attribute(self) -> None:
        slider = Slider()
        record = Recorder()
        slider.on_change("title", record)
        slider.value = 1.0
        assert record.calls == []
        slider.title = "x"
        assert record.calls == [("title", "", "x")]

    def test_several_callbacks_in_order(self) -> None:
        slider = Slider()
        order: list[str] = []
        slider.on_change("value", lambda *_: order.append("a"), lambda *_: order.append("b"))
        slider.on_change("value", lambda *_: order.append("c"))
        slider.value = 1.0
        assert order == ["a", "b", "c"]
        assert slider.has_callbacks("value")
        assert not slider.has_callbacks("title")

    def test_remove_on_change(self) -> None:
        slider = Slider()
        first, second = Recorder(), Recorder()
        slider.on_change("value", first, second)
        slider.remove_on_change("value", first)
        slider.value = 1.0
        assert first.calls == [] and len(second.calls) == 1
        slider.remove_on_change("value", second)
        assert not slider.has_callbacks("value")
        slider.remove_on_change("value", second)  # removing again is harmless

    def test_unknown_attribute(self) -> None:
        with pytest.raises(AttributeError, match="has no property 'valu'"):
            Slider().on_change("valu", Recorder())

    def test_failing_callback_is_logged_and_does_not_stop_the_others(self, caplog: pytest.LogCaptureFixture) -> None:
        slider = Slider()
        record = Recorder()

        def broken(attr: str, old: Any, new: Any) -> None:
            raise RuntimeError("boom")

        slider.on_change("value", broken, record)
        with caplog.at_level(logging.ERROR, logger="docsync.document"):
            slider.value = 1.0
        assert slider.value == 1.0
        assert record.calls == [("value", 0.0, 1.0)]
        assert "boom" in caplog.text

    def test_refused_value_triggers_nothing(self) -> None:
        slider = Slider()
        record = Recorder()
        slider.on_change("value", record)
        with pytest.raises(ValueError):
            slider.value = "abc"
        assert record.calls == []

    def test_in_place_edit_gives_old_copy_and_new_container(self) -> None:
        node = TstNode(refs=[])
        record = Recorder()
        node.on_change("refs", record)
        leaf = TstNode()
        node.refs.append(leaf)
        ((attr, old, new),) = record.calls
        assert attr == "refs"
        assert old == [] and new is node.refs and list(new) == [leaf]

    def test_a_column_replaced_in_place_gives_the_old_columns(self) -> None:
        # A data source's columns are a ColumnDataDict (whose first base needs an owner): the
        # old value handed to a callback is a plain dict of the columns before.
        source = ColumnDataSource(data={"x": [1.0]})
        record = Recorder()
        source.on_change("data", record)
        source.data["x"] = [2.0]
        ((attr, old, new),) = record.calls
        assert attr == "data" and type(old) is dict and old == {"x": [1.0]}
        assert new is source.data and source.data["x"] == [2.0]

    def test_coroutine_callback_is_handed_to_the_document(self) -> None:
        doc = Document()
        slider = Slider()
        doc.add_root(slider)

        async def later(attr: str, old: Any, new: Any) -> None:
            return None

        slider.on_change("value", later)
        slider.value = 1.0
        assert len(doc.pending_coroutines) == 1
        doc.destroy()  # closes it: no "never awaited" warning
        assert doc.pending_coroutines == []

    def test_clear_callbacks(self) -> None:
        slider = Slider()
        record = Recorder()
        slider.on_change("value", record)
        slider.clear_callbacks()
        slider.value = 1.0
        assert record.calls == []


class TestOnEvent:
    def test_ui_event_from_the_client_reaches_on_event(self) -> None:
        doc = Document()
        button = Button()
        doc.add_root(button)
        record = Recorder()
        button.on_event("button_click", record)
        patch = doc.decode_patch(
            {
                "events": [
                    {
                        "kind": "MessageSent",
                        "msg_type": "button_click",
                        "msg_data": {"x": 1},
                        "model": {"id": button.id},
                    }
                ]
            },
            setter="conn-1",
        )
        doc.apply_patch(patch, setter="conn-1", from_client=True)
        ((event,),) = record.calls
        assert isinstance(event, MessageSentEvent)
        assert event.msg_type == "button_click" and event.msg_data == {"x": 1}
        assert event.model is button and event.setter == "conn-1"

    def test_on_click_is_on_event_button_click(self) -> None:
        doc = Document()
        button = Button()
        doc.add_root(button)
        record = Recorder()
        button.on_click(record)
        doc.apply_patch([MessageSentEvent("button_click", None, button)], from_client=True)
        assert len(record.calls) == 1

    def test_other_event_names_do_not_fire(self) -> None:
        doc = Document()
        button = Button()
        doc.add_root(button)
        record = Recorder()
        button.on_event("button_click", record)
        doc.apply_patch([MessageSentEvent("something_else", None, button)])
        assert record.calls == []


class TestClasses:
    def test_type_name_defaults_to_class_name(self) -> None:
        assert Slider.__type_name__ == "Slider"
        assert model_class("Slider") is Slider

    def test_type_name_override(self) -> None:
        class TstRenamed(Model):
            __type_name__ = "tst.Renamed"

        assert model_class("tst.Renamed") is TstRenamed
        assert "tst.Renamed" in registered_names()

    def test_a_used_name_refuses_a_different_class(self) -> None:
        with pytest.raises(TypeError, match=r"model type name 'Slider' is taken by .*Slider"):

            class Slider(Model):
                pass

    def test_reregistering_the_same_class_is_allowed(self) -> None:
        register_model_class("TstLeaf", TstLeaf)
        assert model_class("TstLeaf") is TstLeaf

    def test_unknown_type_name(self) -> None:
        with pytest.raises(DeserializationError, match=r"^unknown model type 'Nope'$"):
            model_class("Nope")

    def test_abstract_models_are_not_registered(self) -> None:
        class TstAbstract(Model):
            __abstract__ = True
            size = Int()

        class TstConcrete(TstAbstract):
            pass

        assert "TstAbstract" not in registered_names()
        assert model_class("TstConcrete") is TstConcrete
        assert TstConcrete.__abstract__ is False
        assert "size" in TstConcrete.properties()

    def test_client_writable_must_name_properties(self) -> None:
        with pytest.raises(TypeError, match=r"TstBadWritable.__client_writable__ names unknown properties \['nope'\]"):

            class TstBadWritable(Model):
                __client_writable__ = frozenset({"value", "nope"})
                value = Float()

    def test_secret_must_name_properties(self) -> None:
        with pytest.raises(TypeError, match=r"TstBadSecret.__secret__ names unknown properties \['pasword'\]"):

            class TstBadSecret(Model):
                __secret__ = frozenset({"pasword"})
                password = String()

    def test_subclass_overrides_a_property(self) -> None:
        class TstBase(Model):
            label = String("base")

        class TstDerived(TstBase):
            label = String("derived")
            extra = List(Int())

        assert TstDerived().label == "derived"
        assert TstBase().label == "base"
        assert set(TstDerived.properties()) == {"name", "label", "extra"}

    def test_references_lists_held_models(self) -> None:
        a, b, c = TstNode(), TstNode(), TstNode()
        node = TstNode(ref=a, refs=[b, a], table={"k": [c]})
        assert [m.id for m in node.references()] == [a.id, b.id, a.id, c.id]
        assert list(Column().references()) == []


class TestWhatCountsAsAChange:
    @pytest.mark.parametrize(
        ("old", "new"),
        [
            (0.0, -0.0),
            (-0.0, 0.0),
            (1.0, math.inf),
            (math.nan, 0.0),
            (0.0, math.nan),
            (1.0, 2.0),
            (math.inf, -math.inf),
        ],
    )
    def test_float_changes_are_reported(self, old: float, new: float) -> None:
        slider = Slider(value=old)
        record = Recorder()
        slider.on_change("value", record)
        slider.value = new
        assert len(record.calls) == 1
        assert math.copysign(1.0, slider.value) == math.copysign(1.0, new)

    @pytest.mark.parametrize(
        ("old", "new", "changed"),
        [
            ([1.0, 2.0], [1.0, 2.0], False),
            ([0.0], [-0.0], True),
            ([math.nan], [math.nan], False),
            ([1.0], [1.0, 1.0], True),
        ],
    )
    def test_list_changes(self, old: list[float], new: list[float], changed: bool) -> None:
        class TstFloatList(Model):
            values = List(Float())

        model = TstFloatList(values=old)
        record = Recorder()
        model.on_change("values", record)
        model.values = new
        assert bool(record.calls) is changed


class Tagged(Model):
    """A model with a list of plain values."""

    __type_name__ = "test_model.Tagged"
    tags = List(String())


def test_splice_out_applies_another_origins_splice_without_noting_it_as_changed_out() -> None:
    # A client applies so a server's splice it skipped to the object of a model out of its
    # document (convergence, seed 2138669479): the server's value, not one to send back.
    note = Tagged(tags=["w", "x", "y"])
    note.track_changes_out()
    note.splice_out("tags", 0, 1, [])
    assert note.tags == ["x", "y"]
    assert note.changed_out() == []
    note.track_changes_out()
    note.tags.append("z")  # its own change while out: noted
    note.splice_out("tags", 0, 0, ["v"])
    assert note.tags == ["v", "x", "y", "z"]
    assert note.changed_out() == ["tags"]


def test_change_out_applies_another_origins_change_without_noting_it_as_changed_out() -> None:
    # The same for any other change a client skipped (convergence, seed 6500002493).
    note = Tagged(tags=["w"])
    note.track_changes_out()
    note.change_out("tags", lambda: setattr(note, "tags", ["x"]))
    assert note.tags == ["x"]
    assert note.changed_out() == []
    note.track_changes_out()
    note.tags = ["y"]  # its own change while out: noted
    note.change_out("tags", lambda: setattr(note, "tags", ["z"]))
    assert note.tags == ["z"]
    assert note.changed_out() == ["tags"]
