#!/usr/bin/env python3
"""Fails when modules of a crate import each other in a loop.

For every pair of sibling modules (the files and folders of one folder), an edge A -> B when a
file under A names a path under B (`crate::b::..`, `super::b::..`, in `use` lines and in code;
test modules and comments left out). A module and its own parent may use each other (`mod.rs`
re-exports its children; a child uses its parent's items). Prints each loop with the files that
make it, and exits 1 when there is one.

Usage: scripts/module-cycles.py crates/zpark/src [more source roots]
"""
import collections
import os
import re
import sys

PATH = re.compile(r"\b(crate|super|self)((?:::\w+)+|::\{)")


def modules_of(root):
    """Module path (tuple) of every .rs file under root."""
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            if not name.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(folder, name), root)
            parts = rel[:-3].split(os.sep)
            if parts[-1] in ("mod", "lib", "main"):
                parts = parts[:-1]
            files[os.path.join(folder, name)] = tuple(parts)
    return files


def code_of(path):
    text = open(path, encoding="utf-8").read()
    text = re.split(r"#\[cfg\(test\)\]\s*mod tests", text)[0]
    return re.sub(r"//[^\n]*", "", text)


def referenced(module, code, known):
    """Module paths that `code` (in `module`) names."""
    for match in PATH.finditer(code):
        head, rest = match.group(1), match.group(2)
        if head == "crate":
            base = ()
        elif head == "super":
            base = module[:-1]
        else:
            base = module
        names = [n for n in rest.split("::") if n and n != "{"]
        if rest == "::{":
            # `use crate::{a, b::c}`: every name at the start of a group entry.
            group = code[match.end():code.find("}", match.end())]
            for entry in re.findall(r"(?:^|,)\s*(\w+)", group):
                yield longest(base + (entry,), known)
            continue
        while names and names[0] == "super":
            base, names = base[:-1], names[1:]
        yield longest(base + tuple(names), known)


def longest(path, known):
    """The longest prefix of `path` that is a module."""
    for end in range(len(path), 0, -1):
        if path[:end] in known:
            return path[:end]
    return ()


def check(root):
    files = modules_of(root)
    known = set(files.values())
    edges = collections.defaultdict(set)
    why = collections.defaultdict(set)
    for path, module in files.items():
        for target in referenced(module, code_of(path), known):
            common = 0
            while common < min(len(module), len(target)) and module[common] == target[common]:
                common += 1
            if common == len(module) or common == len(target):
                continue  # the same module, an ancestor or a descendant
            a, b = module[: common + 1], target[: common + 1]
            edges[a].add(b)
            why[(a, b)].add(os.path.relpath(path, root))
    loops = strongly_connected([n for n in edges], edges)
    for loop in loops:
        print(f"{root}: modules in a loop: {', '.join('/'.join(m) for m in sorted(loop))}")
        for a in sorted(loop):
            for b in sorted(edges[a] & set(loop)):
                print(f"    {'/'.join(a)} -> {'/'.join(b)}  ({', '.join(sorted(why[(a, b)]))})")
    return len(loops)


def strongly_connected(nodes, edges):
    index, low, stack, on_stack, loops = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                loops.append(component)

    sys.setrecursionlimit(10_000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return loops


if __name__ == "__main__":
    total = sum(check(root) for root in sys.argv[1:])
    if total:
        sys.exit(1)
    print(f"no module imports one that imports it back ({', '.join(sys.argv[1:])})")
