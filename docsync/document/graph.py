"""Cycles in the graph of models: which models are among their own descendants."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator

from .model import Model

__all__ = ["models_in_cycles"]

References = Callable[[Model], Iterable[Model]]


def models_in_cycles(sources: Iterable[Model], references: References) -> list[Model]:
    """Return the models of ``sources`` that can reach themselves through ``references``.

    Tarjan's strongly connected components, without recursion (a hostile document can
    nest deeper than Python's stack), over what ``sources`` reach: linear in it.
    """
    sources = list(sources)
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    stack: list[Model] = []
    on_stack: set[int] = set()
    cyclic: set[int] = set()

    def enter(model: Model) -> tuple[Model, Iterator[Model]]:
        index[id(model)] = low[id(model)] = len(index)
        stack.append(model)
        on_stack.add(id(model))
        return model, iter(references(model))

    for source in sources:
        if id(source) in index:
            continue
        work = [enter(source)]
        while work:
            node, children = work[-1]
            for child in children:
                if child is node:
                    cyclic.add(id(node))
                if id(child) not in index:
                    work.append(enter(child))
                    break
                if id(child) in on_stack:
                    low[id(node)] = min(low[id(node)], index[id(child)])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[id(parent)] = min(low[id(parent)], low[id(node)])
                if low[id(node)] == index[id(node)]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(id(member))
                        component.append(id(member))
                        if member is node:
                            break
                    if len(component) > 1:
                        cyclic.update(component)
    return [source for source in sources if id(source) in cyclic]
