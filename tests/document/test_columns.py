from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from docsync.document.columns import apply_patches, apply_stream, check_patches, check_stream
from docsync.exceptions import ValidationError


def streamed(data: dict[str, Any], rows: dict[str, Any], rollover: int | None = None) -> dict[str, Any]:
    checked = check_stream(data, rows, rollover)
    apply_stream(data, checked, rollover)
    return data


class TestStream:
    @pytest.mark.parametrize(
        ("old", "new", "rollover", "expected"),
        [
            ([1, 2, 3], [4, 5], None, [1, 2, 3, 4, 5]),
            ([1, 2, 3], [4, 5], 10, [1, 2, 3, 4, 5]),
            ([1, 2, 3], [4, 5], 5, [1, 2, 3, 4, 5]),
            ([1, 2, 3], [4, 5], 4, [2, 3, 4, 5]),
            ([1, 2, 3], [4, 5], 2, [4, 5]),
            ([1, 2, 3], [4, 5], 1, [5]),
            ([1, 2, 3], [4, 5], 0, []),
            ([], [4, 5], 1, [5]),
            ([1, 2, 3], [], 2, [2, 3]),
        ],
    )
    @pytest.mark.parametrize("kind", ["list", "array"])
    def test_rollover_keeps_the_last_rows(
        self, old: list[int], new: list[int], rollover: int | None, expected: list[int], kind: str
    ) -> None:
        if kind == "array":
            data = streamed({"c": np.array(old, dtype=np.int64)}, {"c": np.array(new, dtype=np.int64)}, rollover)
            assert isinstance(data["c"], np.ndarray) and data["c"].dtype == np.int64
            assert data["c"].tolist() == expected
        else:
            data = streamed({"c": list(old)}, {"c": list(new)}, rollover)
            assert data["c"] == expected

    def test_list_rows_join_an_array_column(self) -> None:
        data = streamed({"c": np.zeros(2, dtype=np.float32)}, {"c": [1, 2]})
        assert data["c"].dtype == np.float32 and data["c"].tolist() == [0, 0, 1, 2]

    def test_array_rows_join_a_list_column(self) -> None:
        data = streamed({"c": ["a"]}, {"c": np.array([1, 2])})
        assert data["c"] == ["a", 1, 2]

    def test_two_dimensional_columns(self) -> None:
        data = streamed({"c": np.zeros((2, 3))}, {"c": np.ones((1, 3))}, rollover=2)
        assert data["c"].shape == (2, 3) and data["c"][1].tolist() == [1, 1, 1]

    def test_old_arrays_are_not_modified(self) -> None:
        old = np.arange(3)
        data = streamed({"c": old}, {"c": [9]}, rollover=3)
        assert old.tolist() == [0, 1, 2]
        assert data["c"].tolist() == [1, 2, 9]

    def test_bool_rollover_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="rollover must be a non-negative int, got True"):
            check_stream({"c": [1]}, {"c": [2]}, True)  # type: ignore[arg-type]

    def test_int_rows_cannot_take_floats(self) -> None:
        with pytest.raises(ValidationError, match=r"streamed column 'c' of float64 cannot join int64"):
            check_stream({"c": np.arange(2)}, {"c": [1.5]}, None)

    def test_empty_rows_join_any_dtype(self) -> None:
        data = streamed({"c": np.arange(2)}, {"c": []})
        assert data["c"].tolist() == [0, 1]


class TestPatch:
    def patched(self, data: dict[str, Any], patches: dict[str, Any]) -> dict[str, Any]:
        apply_patches(data, check_patches(data, patches))
        return data

    def test_index_and_slice(self) -> None:
        data = self.patched({"c": np.arange(6)}, {"c": [(0, 10), (slice(2, 4), [20, 30]), (slice(1, None, 4), [7, 8])]})
        assert data["c"].tolist() == [10, 7, 20, 30, 4, 8]

    def test_list_columns_are_replaced_not_mutated(self) -> None:
        old = ["a", "b"]
        data = self.patched({"c": old}, {"c": [(1, "z")]})
        assert data["c"] == ["a", "z"] and old == ["a", "b"]

    def test_read_only_arrays_are_copied(self) -> None:
        frozen = np.arange(3)
        frozen.setflags(write=False)
        data = self.patched({"c": frozen}, {"c": [(0, 5)]})
        assert data["c"].tolist() == [5, 1, 2] and frozen.tolist() == [0, 1, 2]

    def test_slice_bounds(self) -> None:
        data = {"c": list(range(4))}
        assert check_patches(data, {"c": [(slice(0, 4), [0] * 4)]})["c"][0][0] == slice(0, 4, 1)
        assert check_patches(data, {"c": [(slice(4, 4), [])]})["c"][0][0] == slice(4, 4, 1)
        for bad in (slice(-1, None), slice(0, 5), slice(None, -1), slice(None, None, -1), slice(5, None)):
            with pytest.raises(ValidationError, match="out of range"):
                check_patches(data, {"c": [(bad, [])]})

    def test_bool_index_is_refused(self) -> None:
        with pytest.raises(ValidationError, match="patch index True out of range"):
            check_patches({"c": [1, 2]}, {"c": [(True, 5)]})

    def test_array_values_for_a_slice(self) -> None:
        data = self.patched({"c": np.zeros(3)}, {"c": [(slice(0, 2), np.array([1.0, 2.0]))]})
        assert data["c"].tolist() == [1.0, 2.0, 0.0]


class TestValuesKeepTheirMeaning:
    @pytest.mark.parametrize(
        ("dtype", "value", "stored"),
        [
            ("uint8", 200, 200),
            ("uint64", 2**63, 2**63),
            ("int8", -128, -128),
            ("float32", 2, 2.0),
            ("float64", True, 1.0),
            ("bool", True, True),
        ],
    )
    def test_fitting_values_are_taken(self, dtype: str, value: Any, stored: Any) -> None:
        data = {"c": np.zeros(2, dtype=dtype)}
        apply_patches(data, check_patches(data, {"c": [(0, value)]}))
        assert data["c"][0] == stored and data["c"].dtype == np.dtype(dtype)
        data = streamed({"c": np.zeros(1, dtype=dtype)}, {"c": [value]})
        assert data["c"].tolist()[1] == stored and data["c"].dtype == np.dtype(dtype)

    @pytest.mark.parametrize(
        ("dtype", "value"),
        [
            ("uint8", 256),
            ("uint8", -1),
            ("int8", 128),
            ("int64", 2**63),
            ("int32", 1.5),
            ("int32", 2.0),
            ("bool", 1),
            ("float64", "1.0"),
            ("float64", None),
            ("float64", 1j),
        ],
    )
    def test_values_that_would_change_are_refused(self, dtype: str, value: Any) -> None:
        data = {"c": np.zeros(2, dtype=dtype)}
        with pytest.raises(ValidationError, match=r"does not fit column 'c'"):
            check_patches(data, {"c": [(0, value)]})
        with pytest.raises(
            ValidationError, match=r"^streamed column 'c' (of .* cannot join|has values out of range of)"
        ):
            check_stream(data, {"c": [value]}, None)

    def test_patch_value_shape_must_match(self) -> None:
        data = {"c": np.zeros(3), "m": np.zeros((3, 2))}
        for patches in (
            {"c": [(0, [1.0, 2.0])]},
            {"m": [(0, 1.0)]},
            {"m": [(0, [1.0, 2.0, 3.0])]},
            {"m": [(slice(0, 2), [1.0, 2.0])]},
        ):
            with pytest.raises(ValidationError, match="does not fit column"):
                check_patches(data, patches)
        apply_patches(data, check_patches(data, {"m": [(1, [5.0, 6.0]), (slice(0, 1), [[7.0, 8.0]])]}))
        assert data["m"].tolist() == [[7.0, 8.0], [5.0, 6.0], [0.0, 0.0]]

    def test_out_of_range_message(self) -> None:
        with pytest.raises(ValidationError, match=r"^streamed column 'c' has values out of range of uint8$"):
            check_stream({"c": np.zeros(1, dtype=np.uint8)}, {"c": [300]}, None)
