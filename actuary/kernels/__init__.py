"""Numba kernels: contiguous float64 arrays in, preallocated arrays out, no Python objects."""


def uncompiled(*kernels) -> list:
    """The kernels among ``kernels`` (Numba dispatchers with ``cache=True``) that compile on their first call in this
    process: not compiled in it yet, and without code for this machine in Numba's cache (none there, or only code for
    an earlier version of their source or for another processor). The first run on a machine, or after an update,
    compiles them (a minute or so), which a command says before it starts. [] when it cannot be told (the cache's
    layout is Numba's own; a version that changed it gets no such note, nothing else)."""
    try:
        from numba.core.registry import cpu_target

        machine = cpu_target.target_context.codegen().magic_tuple()
        pending = []
        for kernel in kernels:
            if kernel.overloads:
                continue
            index = kernel._cache._cache_file._load_index()
            if not any(key[1] == machine for key in index):
                pending.append(kernel)
        return pending
    except Exception:   # noqa: BLE001 (a note, never a reason to fail)
        return []


def cache_folder(kernel) -> str:
    """Where Numba keeps ``kernel``'s compiled code ("" when it cannot be told)."""
    try:
        return str(kernel._cache.cache_path)
    except Exception:   # noqa: BLE001
        return ""
