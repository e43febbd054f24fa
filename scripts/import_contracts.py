"""An import-linter contract that no two modules of a package import each other, directly or in a ring.

import-linter's own ``acyclic_siblings`` contract looks at sibling *packages* (``qa_app.inspections`` and
``qa_app.facilities`` as wholes), and the domain packages rightly lean on each other's models that way. What
hurts a reader is a ring of *modules*: ``a`` needs ``b`` and ``b`` needs ``a``, so neither can be read, tested or
moved first. This contract reports every such ring (a strongly connected component of the module graph),
counting imports inside functions too: a lazy import hides a ring, it does not remove it.

Registered in pyproject.toml under ``[tool.importlinter] contract_types``; run by ``lint-imports``.
"""
from __future__ import annotations

import grimp
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def module_rings(graph: grimp.ImportGraph, modules: set[str]) -> list[list[str]]:
    """The rings (strongly connected components of two modules or more) among ``modules``, each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    rings: list[list[str]] = []
    counter = 0
    # Tarjan's algorithm, iterative: a deep import chain must not hit Python's recursion limit.
    for root in sorted(modules):
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = []

        def enter(node: str) -> None:
            nonlocal counter
            index[node] = low[node] = counter
            counter += 1
            stack.append(node)
            on_stack.add(node)
            work.append((node, sorted(graph.find_modules_directly_imported_by(node) & modules)))

        enter(root)
        while work:
            node, todo = work[-1]
            if todo:
                nxt = todo.pop()
                if nxt not in index:
                    enter(nxt)
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                ring = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    ring.append(member)
                    if member == node:
                        break
                if len(ring) > 1:
                    rings.append(sorted(ring))
    return sorted(rings)


class AcyclicModulesContract(Contract):
    """No ring of imports among the modules of ``packages``."""

    packages = fields.ListField(subfield=fields.ModuleField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        modules: set[str] = set()
        for package in self.packages:  # type: ignore[attr-defined]
            modules |= {package.name} | graph.find_descendants(package.name)
        rings = module_rings(graph, modules)
        return ContractCheck(kept=not rings, metadata={"rings": rings})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for ring in check.metadata["rings"]:
            output.print_error(f"These modules import each other: {', '.join(ring)}")
            output.new_line()
