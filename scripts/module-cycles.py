#!/usr/bin/env python3
"""Module dependency check for one crate: finds import circles between its modules.

Each .rs file under src/ is a module (`a/b.rs` is `a::b`; `a.rs` / `a/mod.rs` is `a`). An edge
A -> B is any `crate::…` path in A (in `use` items or inline) that resolves to module B or an
item in it, and any `super::…` path; a `crate::Name` item defined or re-exported at the root
is mapped to the module that defines it (ROOT_ITEMS below, read from `pub use` lines in lib.rs).
Edges from a module to its own ancestors or descendants count too.

Reports strongly connected components at two granularities: files, and top-level modules
(everything under `a/` counted as `a`). lib.rs, the wiring, is left out: it imports everything
and nothing imports it by path. Exit status 1 when a cycle exists.

Usage: scripts/module-cycles.py core/app/src
"""
import os
import re
import sys

def modules(src):
    mods = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith('.rs'):
                continue
            path = os.path.join(dirpath, f)
            rel = os.path.relpath(path, src)[:-3].replace(os.sep, '::')
            if rel in ('lib', 'main'):
                continue
            if rel.endswith('::mod'):
                rel = rel[:-5]
            mods[rel] = path
    return mods

def strip(text):
    text = re.sub(r'//[^\n]*', '', text)          # comments, doc comments
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)  # string literals
    # Test modules: their imports are not the crate's structure.
    m = re.search(r'#\[cfg\(test\)\]\s*mod tests', text)
    return text[:m.start()] if m else text

def root_items(src, mods):
    """`pub use crate::a::b::Name` / `use crate::a::{X, Y}` in lib.rs, and items lib.rs defines."""
    items = {}
    lib = strip(open(os.path.join(src, 'lib.rs')).read())
    for m in re.finditer(r'\buse\s+crate::([\w:]+)::(\{[^}]*\}|\w+)(?:\s+as\s+(\w+))?\s*;', lib):
        path, names, alias = m.group(1), m.group(2), m.group(3)
        target = resolve(path.split('::'), mods)
        for n in re.findall(r'\w+', names):
            items[n] = target
        if alias and target:
            items[alias] = target
    for m in re.finditer(r'\buse\s+crate::(\w+)\s+as\s+(\w+)\s*;', lib):
        items[m.group(2)] = m.group(1)
    return items

def resolve(segments, mods):
    """Longest prefix of `segments` that names a module."""
    for n in range(len(segments), 0, -1):
        name = '::'.join(segments[:n])
        if name in mods:
            return name
    return None

def edges(src, mods, items):
    out = {m: set() for m in mods}
    for mod, path in mods.items():
        text = strip(open(path).read())
        # Expand `use crate::{a, b::c, d::{e, f}}` groups into paths.
        paths = []
        for m in re.finditer(r'\bcrate::((?:\w+::)*)\{', text):
            start = m.end()
            depth, i = 1, start
            while depth and i < len(text):
                depth += {'{': 1, '}': -1}.get(text[i], 0)
                i += 1
            for part in re.split(r',', re.sub(r'\{[^{}]*\}', '', text[start:i - 1])):
                part = part.strip().split(' as ')[0].strip()
                if part and part != 'self':
                    paths.append(m.group(1) + part)
                elif part == 'self':
                    paths.append(m.group(1).rstrip(':'))
            # nested groups: `a::{b, c}` inside the outer group
            for g in re.finditer(r'(\w+)::\{([^{}]*)\}', text[start:i - 1]):
                for n in g.group(2).split(','):
                    n = n.strip().split(' as ')[0].strip()
                    if n:
                        paths.append(m.group(1) + g.group(1) + '::' + n)
        paths += [p for p in re.findall(r'\bcrate::((?:\w+::)*\w+)', text)]
        parent = mod.rsplit('::', 1)[0] if '::' in mod else None
        for p in re.findall(r'\bsuper::((?:\w+::)*\w+)', text):
            paths.append((parent + '::' + p) if parent else p)
        for p in paths:
            segs = [s for s in p.split('::') if s]
            if not segs:
                continue
            target = resolve(segs, mods) or items.get(segs[0])
            if target and target != mod:
                out[mod].add(target)
    return out

def sccs(graph):
    index, low, stack, on, result, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)
    def visit(v):
        index[v] = low[v] = counter[0]; counter[0] += 1
        stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                result.append(sorted(comp))
    for v in graph:
        if v not in index:
            visit(v)
    return result

def main():
    src = sys.argv[1] if len(sys.argv) > 1 else 'src'
    mods = modules(src)
    items = root_items(src, mods)
    files = edges(src, mods, items)
    top = {}
    for a, bs in files.items():
        ta = a.split('::')[0]
        top.setdefault(ta, set())
        for b in bs:
            tb = b.split('::')[0]
            if tb != ta:
                top[ta].add(tb)
    bad = False
    for name, graph in (('file modules', files), ('top-level modules', top)):
        cycles = sccs(graph)
        n_edges = sum(len(v) for v in graph.values())
        print(f'{name}: {len(graph)} modules, {n_edges} edges, {len(cycles)} cycle(s)')
        for c in cycles:
            bad = True
            print('  cycle:', ' <-> '.join(c))
            for a in c:
                print(f'    {a} -> {", ".join(sorted(b for b in graph[a] if b in c))}')
    if '-v' in sys.argv:
        for a in sorted(top):
            print(f'{a} -> {", ".join(sorted(top[a]))}')
    sys.exit(1 if bad else 0)

main()
