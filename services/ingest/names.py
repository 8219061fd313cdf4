"""Column names a table can be stored under: none blank, none repeated."""

from collections import Counter

from services.errors import ColumnNamesNeedFixing

MAX_NAME_LENGTH = 200


def usable_names(names: list[str], *, filename: str, rename: bool) -> list[str]:
    """`names` if usable; else fixed names when `rename`, or an error offering them."""
    names = [name.strip() for name in names]  # as CSV headers: stray spaces are never meant
    suggested = suggest_names(names)
    if suggested == names:
        return names
    if rename:
        return suggested
    raise ColumnNamesNeedFixing(_describe_problem(names, filename), suggested=suggested)


def suggest_names(names: list[str]) -> list[str]:
    """Blank names become column_N, repeated ones get _2, _3 ... in order of appearance."""
    cleaned = [
        name.strip()[:MAX_NAME_LENGTH] or f"column_{position}"
        for position, name in enumerate(names, start=1)
    ]
    taken = set(cleaned)
    seen: Counter[str] = Counter()
    result = []
    for name in cleaned:
        seen[name] += 1
        if seen[name] == 1:
            result.append(name)
            continue
        suffix = seen[name]
        while f"{name}_{suffix}" in taken:
            suffix += 1
        taken.add(f"{name}_{suffix}")
        result.append(f"{name}_{suffix}")
    return result


def _describe_problem(names: list[str], filename: str) -> str:
    problems = []
    blanks = [str(i) for i, name in enumerate(names, start=1) if not name.strip()]
    if blanks:
        one = len(blanks) == 1
        problems.append(
            f"column{'' if one else 's'} {', '.join(blanks[:5])} {'has' if one else 'have'} no name"
        )
    repeated = [name for name, n in Counter(n for n in names if n.strip()).items() if n > 1]
    if repeated:
        shown = ", ".join(f"'{name}'" for name in repeated[:5])
        problems.append(f"{shown} {'appears' if len(repeated) == 1 else 'appear'} more than once")
    too_long = [name[:20] for name in names if len(name.strip()) > MAX_NAME_LENGTH]
    if too_long:
        problems.append(f"{len(too_long)} name(s) are longer than {MAX_NAME_LENGTH} characters")
    return (
        f"The column names in '{filename}' need fixing: " + "; ".join(problems) + ". "
        "Accept the suggested names, or fix them in the file and upload it again."
    )
